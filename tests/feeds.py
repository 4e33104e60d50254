"""Calendar files over HTTP, as a subscribed calendar fetches them: the cases on winter and
summer days and on both days the clocks change, each file read by every parser
(tests/calendars.py), conditional HTTP, and the subscribe links on a page.

Shared by the public feeds (tests/events/test_feeds.py) and the personal feed
(tests/registrations/test_personal_feed.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

from events.calendar import CalendarEntry
from events.models import Event
from events.schedule import create_series
from foundation.services import Services
from tests.calendars import TRICKY, Parsed, Parsers, read_icalendar
from tests.factories import make_event

BASE = "http://testserver"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Everything that needs escaping in a TEXT value, in the title itself. A title is one line
# (events.rules); newlines are escaped in the description (TRICKY).
TITLE = 'Kafé, "mat"; C:\\temp\\ rad två: åäö ÅÄÖ'
SUMMARY = "Sammanfattning; med, komma \\ och å/ä/ö"
SERIES = "dst"
SERIES_TITLE = "Kaféer; året runt, med å/ä/ö"
CALENDAR_TYPE = "text/calendar; charset=utf-8"


# --- the instants: winter, summer and both days the clocks change -------------------------


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class When:
    name: str
    start: datetime  # the UTC instants every parser must arrive at
    end: datetime


# Next year, so every event can still be booked. The rules, not the year, are what matter.
YEAR = datetime.now(UTC).year + 1
SPRING, AUTUMN = last_sunday(YEAR, 3), last_sunday(YEAR, 10)
TIMES = [
    When("vinter", at(date(YEAR, 1, 20), 11), at(date(YEAR, 1, 20), 12)),  # 12.00 CET
    # 01.30 CET to 03.30 CEST: across the missing hour.
    When("vår-natt", at(SPRING, 0, 30), at(SPRING, 1, 30)),
    When("vår-lunch", at(SPRING, 10), at(SPRING, 11)),  # 12.00 CEST on the change day
    When("sommar", at(date(YEAR, 6, 16), 10), at(date(YEAR, 6, 16), 11)),  # 12.00 CEST
    # 02.15 CEST (first 02.15) to 02.45 CET (the repeated hour's second 02.45).
    When("höst-natt", at(AUTUMN, 0, 15), at(AUTUMN, 1, 45)),
    When("höst-lunch", at(AUTUMN, 11), at(AUTUMN, 12)),  # 12.00 CET on the change day
]


async def make_times_series(services: Services) -> list[tuple[Event, When]]:
    """One published event per case in series SERIES, each with its own secret join link."""
    async with services.transaction() as session:
        await create_series(session, slug=SERIES, title=SERIES_TITLE)
    return [
        (
            await make_event(
                services,
                title=f"{when.name}: {TITLE}",
                summary=SUMMARY,
                description=TRICKY,
                starts_at=when.start,
                ends_at=when.end,
                join_url=f"https://meet.example.se/hemligt-rum-{n}",
                series_slug=SERIES,
            ),
            when,
        )
        for n, when in enumerate(TIMES)
    ]


def event_url(event: Event) -> str:
    return f"{BASE}/events/{event.id}"


Expected = dict[str, tuple[CalendarEntry, When]]


def assert_read_everywhere(parsers: Parsers, files: Sequence[tuple[bytes, Expected]]) -> None:
    """Every parser finds exactly the expected events in each file, at the expected UTC
    instants, with the text exactly as stored."""
    readings = parsers.read([data for data, _ in files])
    for (_, expected), reading in zip(files, readings, strict=True):
        for name, parsed in reading.items():
            assert sorted(p.uid for p in parsed) == sorted(expected), name
            for got in parsed:
                entry, when = expected[got.uid]
                where = f"{name}: {when.name}"
                assert (got.start, got.end) == (when.start, when.end), where
                prefix = "INSTÄLLT: " if entry.cancelled else ""
                assert got.summary == prefix + entry.title, where
                assert got.summary.endswith(f"{when.name}: {TITLE}"), where
                assert got.description == entry.description, where
                assert SUMMARY in got.description, where
                assert got.location == entry.location, where
                assert got.sequence == entry.sequence, where
                assert got.status == ("CANCELLED" if entry.cancelled else "CONFIRMED"), where
                assert (got.method, got.attendees, got.alarms) == (None, 0, 0), where


def read(data: bytes) -> dict[str, Parsed]:
    return {p.uid: p for p in read_icalendar(data)}


# --- HTTP -----------------------------------------------------------------------------------


async def fetch(
    client: httpx.AsyncClient, url: str, method: str = "GET", **headers: str
) -> httpx.Response:
    """A request as Google's fetcher sends it: no Accept header at all."""
    request = client.build_request(
        method, url, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    del request.headers["accept"]
    return await client.send(request)


async def calendar_file(client: httpx.AsyncClient, url: str) -> httpx.Response:
    response = await fetch(client, url)
    assert response.status_code == 200, (url, response.text[:300])
    assert response.headers["content-type"] == CALENDAR_TYPE
    return response


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def query(url: str) -> dict[str, str]:
    return {k: v for k, [v] in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


async def assert_conditional_http(client: httpx.AsyncClient, url: str, *, private: bool) -> None:
    full = await calendar_file(client, url)
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag  # strong
    cache_control = full.headers["cache-control"]
    if private:
        assert "private" in cache_control, url
        assert "public" not in cache_control, url
    else:
        assert cache_control.startswith("public"), url

    head = await fetch(client, url, "HEAD")
    assert head.status_code == 200, url
    assert head.content == b"", url
    assert head.headers["etag"] == etag
    assert head.headers["last-modified"] == modified
    assert head.headers["content-length"] == str(len(full.content))
    assert head.headers["content-type"] == CALENDAR_TYPE

    def status(response: httpx.Response) -> int:
        if response.status_code == 304:
            assert response.content == b"", url
            assert response.headers["etag"] == etag, url
        return response.status_code

    last_modified = parsedate_to_datetime(modified)
    at_modified = format_datetime(last_modified, usegmt=True)
    after = format_datetime(last_modified + timedelta(seconds=1), usegmt=True)
    before = format_datetime(last_modified - timedelta(seconds=1), usegmt=True)
    other = '"0123456789abcdef0123456789abcdef"'
    cases: list[tuple[dict[str, str], int]] = [
        ({"if_none_match": etag}, 304),
        ({"if_none_match": f"{other}, {etag}"}, 304),
        ({"if_none_match": f"{other},{etag}"}, 304),
        ({"if_none_match": f"W/{etag}"}, 304),  # If-None-Match compares weakly
        ({"if_none_match": "*"}, 304),
        ({"if_none_match": other}, 200),
        ({"if_none_match": etag[:-2] + '"'}, 200),
        ({"if_modified_since": at_modified}, 304),
        ({"if_modified_since": after}, 304),
        ({"if_modified_since": before}, 200),
        ({"if_modified_since": "not a date"}, 200),
        # If-None-Match decides; If-Modified-Since is then ignored, either way.
        ({"if_none_match": other, "if_modified_since": at_modified}, 200),
        ({"if_none_match": etag, "if_modified_since": before}, 304),
    ]
    for headers, expected in cases:
        assert status(await fetch(client, url, **headers)) == expected, (url, headers)
    assert status(await fetch(client, url, "HEAD", if_none_match=etag)) == 304, url
    # A 200 after a failed condition is the whole file again.
    assert (await fetch(client, url, if_none_match=other)).content == full.content


def assert_subscribe_links(page: str, feed_url: str, name: str) -> None:
    links = hrefs(page)
    webcal = "webcal://" + feed_url.removeprefix("http://")
    assert webcal in links
    assert feed_url in links
    (google,) = [
        h for h in links if h.startswith("https://calendar.google.com/calendar/render?cid=")
    ]
    assert query(google) == {"cid": webcal}
    (outlook,) = [
        h for h in links if h.startswith("https://outlook.live.com/calendar/0/addfromweb?")
    ]
    assert query(outlook) == {"url": feed_url, "name": name}
