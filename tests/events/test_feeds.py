"""Feeds and .ics downloads over real HTTP, on SQLite and PostgreSQL, read by four parsers.

What a subscribed calendar sees: the instants of winter and summer events and of events on
the days the clocks change, text that needs escaping, the shape rules of ICAL.md (feeds),
conditional HTTP, a reschedule and a cancellation arriving, the subscribe links on the
pages, and the feed cache shared through Redis by two processes.

The parsers are the ones in tests/calendars.py (icalendar, `ical`, ical.js, libical), each
resolving TZID times through the file's own VTIMEZONE; the shared checks are in tests/feeds.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from events.calendar import CalendarEntry
from events.entries import public_entry
from events.feeds import CANCELLED_KEPT
from events.models import Event
from events.schedule import EventChanges, create_series
from foundation.feed_cache import FeedMemo, MemoryFeedCache
from foundation.services import Services
from lunchkafe.app import create_app
from registrations import booking
from registrations.feeds import feed_for, feed_token
from registrations.organising import cancel_event, update_event
from tests.calendars import TRICKY, Parsers, unfolded
from tests.conftest import SECRET, flushed_redis, make_settings
from tests.factories import make_event, person
from tests.feeds import (
    AUTUMN,
    BASE,
    SERIES,
    SERIES_TITLE,
    SPRING,
    STOCKHOLM,
    SUMMARY,
    TIMES,
    TITLE,
    When,
    assert_conditional_http,
    assert_read_everywhere,
    assert_subscribe_links,
    calendar_file,
    event_url,
    fetch,
    hrefs,
    make_times_series,
    query,
    read,
)


def test_the_cases_straddle_the_changes() -> None:
    """A guard on the data: the change-day cases really cross the switch."""
    assert (SPRING.weekday(), AUTUMN.weekday()) == (6, 6)
    for when in TIMES:
        offsets = {
            when.start.astimezone(STOCKHOLM).utcoffset(),
            when.end.astimezone(STOCKHOLM).utcoffset(),
        }
        crosses = when.name.endswith("natt")
        assert len(offsets) == (2 if crosses else 1), when.name


def public(event: Event) -> CalendarEntry:
    return public_entry(event, event_url=event_url(event))


# === 1. every public file, every parser ====================================================


async def test_public_feeds_and_downloads_read_the_same_everywhere(
    services: Services, client: httpx.AsyncClient, parsers: Parsers
) -> None:
    events = await make_times_series(services)
    expected = {event.uid: (public(event), when) for event, when in events}
    assert all(TRICKY in entry.description for entry, _ in expected.values())
    files = [
        ((await calendar_file(client, url)).content, expected)
        for url in ("/calendar.ics", f"/series/{SERIES}/calendar.ics")
    ]
    for event, _ in events:
        response = await calendar_file(client, f"/events/{event.id}/event.ics")
        assert response.headers["content-disposition"] == (
            f'attachment; filename="lunchkafe-{event.id}.ics"'
        )
        files.append((response.content, {event.uid: expected[event.uid]}))
    assert_read_everywhere(parsers, files)


# === 2. the shape of public and series feeds ===============================================


async def test_public_and_series_feeds_follow_the_feed_rules(
    services: Services, client: httpx.AsyncClient
) -> None:
    in_series = [event for event, _ in await make_times_series(services)]
    async with services.transaction() as session:
        await create_series(session, slug="annan", title="En annan serie")
    other = await make_event(services, title="Annan serie", series_slug="annan")
    single = await make_event(services, title="Fristående workshop", venue="Storgatan 1, Umeå")
    draft = await make_event(
        services,
        title="Hemligt utkast",
        series_slug=SERIES,
        publish=False,
        join_url="https://meet.example.se/utkast",
    )
    feeds = {
        "/calendar.ics": ("Lunchkafé", [*in_series, other, single]),
        f"/series/{SERIES}/calendar.ics": (f"Lunchkafé: {SERIES_TITLE}", in_series),
        "/series/annan/calendar.ics": ("Lunchkafé: En annan serie", [other]),
    }
    join_urls = [e.join_url for e in [*in_series, other, single, draft] if e.join_url]
    for url, (name, members) in feeds.items():
        first = await calendar_file(client, url)
        body = first.content
        lines = unfolded(body)
        assert sorted(read(body)) == sorted(e.uid for e in members), url
        assert draft.uid.encode() not in body
        assert b"Hemligt utkast" not in body
        for join_url in join_urls:
            assert join_url.encode() not in body, url
        assert b"meet.example.se" not in body
        assert not [line for line in lines if line.startswith(("ATTENDEE", "ORGANIZER"))]
        assert not [line for line in lines if line.startswith("METHOD")]
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
        assert "X-PUBLISHED-TTL:PT1H" in lines
        escaped = name.replace(";", "\\;").replace(",", "\\,")
        assert f"X-WR-CALNAME:{escaped}" in lines
        assert f"NAME:{escaped}" in lines
        # One rule-based VTIMEZONE: DAYLIGHT and STANDARD with yearly rules, no RDATE lists.
        assert lines.count("BEGIN:VTIMEZONE") == 1
        assert "TZID:Europe/Stockholm" in lines
        assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in lines
        assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in lines
        assert not [line for line in lines if line.startswith("RDATE")]
        # The calendar itself has no UID (Calendar.new() would add a random one).
        assert not [
            line for line in lines[: lines.index("BEGIN:VTIMEZONE")] if line.startswith("UID")
        ]
        # Same data, same bytes: from the cache, and built again from scratch.
        second = await calendar_file(client, url)
        services.feed_cache = MemoryFeedCache()
        rebuilt = await calendar_file(client, url)
        assert first.headers["etag"] == second.headers["etag"] == rebuilt.headers["etag"]
        assert body == second.content == rebuilt.content
        assert first.headers["last-modified"] == rebuilt.headers["last-modified"]
    assert (await fetch(client, f"/events/{draft.id}/event.ics")).status_code == 404
    assert (await fetch(client, "/series/finns-inte/calendar.ics")).status_code == 404
    assert (await fetch(client, "/events/nej/event.ics")).status_code == 404


# === 3. a subscribed calendar follows a reschedule and a cancellation ======================


async def test_subscribers_pick_up_a_reschedule_and_a_cancellation(
    services: Services, client: httpx.AsyncClient, parsers: Parsers
) -> None:
    async with services.transaction() as session:
        await create_series(session, slug=SERIES, title=SERIES_TITLE)
    summer = TIMES[3]
    event = await make_event(
        services,
        title=f"{summer.name}: {TITLE}",
        summary=SUMMARY,
        description=TRICKY,
        starts_at=summer.start,
        ends_at=summer.end,
        series_slug=SERIES,
    )
    async with services.transaction() as session:
        booked = await booking.book(
            session, event_id=event.id, attendee=person(1), secret_key=SECRET
        )
        token = feed_token(
            await feed_for(session, booked.registration.email_normalised, SECRET), SECRET
        )
    public_urls = [
        "/calendar.ics",
        f"/series/{SERIES}/calendar.ics",
        f"/events/{event.id}/event.ics",
    ]
    private_urls = [f"/feeds/{token}.ics", f"/manage/{booked.manage_token}/event.ics"]

    async def snapshot() -> dict[str, httpx.Response]:
        return {url: await calendar_file(client, url) for url in public_urls + private_urls}

    async def revalidate(old: dict[str, httpx.Response]) -> dict[str, httpx.Response]:
        """What a subscribed calendar does: ask again with the ETag it holds."""
        new = {
            url: await fetch(client, url, if_none_match=r.headers["etag"]) for url, r in old.items()
        }
        for url, response in new.items():
            assert response.status_code == 200, url
            assert response.headers["etag"] != old[url].headers["etag"], url
            assert response.content != old[url].content, url
        return new

    def contents(responses: dict[str, httpx.Response]) -> list[bytes]:
        return [response.content for response in responses.values()]

    before = await snapshot()
    sequence = read(before["/calendar.ics"].content)[event.uid].sequence
    assert sequence is not None

    # Reschedule into winter time (another UTC offset). Old ETags no longer match.
    moved = When(summer.name, TIMES[0].start, TIMES[0].end)
    async with services.transaction() as session:
        await update_event(session, event.id, EventChanges(starts_at=moved.start))
    after = await revalidate(before)
    for (url, response), reading in zip(after.items(), parsers.read(contents(after)), strict=True):
        again = await fetch(client, url, if_none_match=response.headers["etag"])
        assert again.status_code == 304, url
        for name, parsed in reading.items():
            (got,) = parsed
            assert got.uid == event.uid, (url, name)
            assert got.sequence is not None
            assert got.sequence > sequence, (url, name)
            assert (got.start, got.end) == (moved.start, moved.end), (url, name)
            assert got.status == "CONFIRMED"
        if url in public_urls:
            assert b"meet.example.se" not in response.content
        else:
            assert b"https://meet.example.se/secret-room" in response.content
    rescheduled = await snapshot()
    sequence = read(rescheduled["/calendar.ics"].content)[event.uid].sequence
    assert sequence is not None

    # Cancel: public files keep it as CANCELLED, the personal feed drops it at once.
    async with services.transaction() as session:
        await cancel_event(session, event.id)
    after = await revalidate(rescheduled)
    for (url, response), reading in zip(after.items(), parsers.read(contents(after)), strict=True):
        if url == private_urls[0]:
            assert all(parsed == [] for parsed in reading.values()), reading
            assert b"meet.example.se" not in response.content
            continue
        for name, parsed in reading.items():
            (got,) = parsed
            assert got.uid == event.uid, (url, name)
            assert got.status == "CANCELLED", (url, name)
            assert got.summary == f"INSTÄLLT: {summer.name}: {TITLE}", (url, name)
            assert got.sequence is not None
            assert got.sequence > sequence, (url, name)

    async def age_cancellation(by: timedelta) -> None:
        """As if the cancellation had happened `by` earlier (both its stamps move)."""
        async with services.transaction() as session:
            row = await session.get(Event, event.id)
            assert row is not None
            assert row.cancelled_at is not None
            await session.execute(
                update(Event)
                .where(Event.id == event.id)
                .values(cancelled_at=row.cancelled_at - by, updated_at=row.updated_at - by)
            )
            # Rewriting stamps stands in for time passing; domain functions flag their own
            # changes like this, so the process forgets the feed keys it remembered.
            session.info["events_changed"] = True

    # Just inside the window it is still there; past CANCELLED_KEPT it drops out.
    await age_cancellation(CANCELLED_KEPT - timedelta(hours=1))
    for url in public_urls[:2]:
        assert event.uid in read((await calendar_file(client, url)).content), url
    await age_cancellation(timedelta(hours=2))
    for url in public_urls[:2]:
        assert event.uid not in read((await calendar_file(client, url)).content), url


# === 4. conditional HTTP ===================================================================


async def test_conditional_http_on_every_calendar_url(
    services: Services, client: httpx.AsyncClient
) -> None:
    async with services.transaction() as session:
        await create_series(session, slug=SERIES, title=SERIES_TITLE)
    event = await make_event(services, series_slug=SERIES)
    async with services.transaction() as session:
        booked = await booking.book(
            session, event_id=event.id, attendee=person(1), secret_key=SECRET
        )
        token = feed_token(
            await feed_for(session, booked.registration.email_normalised, SECRET), SECRET
        )
    for url in ("/calendar.ics", f"/series/{SERIES}/calendar.ics", f"/events/{event.id}/event.ics"):
        await assert_conditional_http(client, url, private=False)
    for url in (f"/feeds/{token}.ics", f"/manage/{booked.manage_token}/event.ics"):
        await assert_conditional_http(client, url, private=True)


# === 6. links on the public pages ==========================================================


async def test_pages_link_to_the_feeds_and_to_add_to_calendar(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_times_series(services)
    for event, when in events:
        page = (await client.get(f"/events/{event.id}")).text
        assert event.join_url is not None
        assert event.join_url not in page
        links = hrefs(page)
        ics = f"{BASE}/events/{event.id}/event.ics"
        assert ics in links
        assert event.uid in read((await calendar_file(client, ics)).content)
        (google,) = [h for h in links if h.startswith("https://calendar.google.com/")]
        assert google.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&")
        fields = query(google)
        assert fields["text"] == event.title
        assert fields["dates"] == f"{when.start:%Y%m%dT%H%M%S}Z/{when.end:%Y%m%dT%H%M%S}Z"
        assert event_url(event) in fields["details"]
        assert "meet.example.se" not in google
        assert fields["location"] == "Digitalt"
        (outlook,) = [h for h in links if h.startswith("https://outlook.office.com/")]
        assert outlook.startswith("https://outlook.office.com/calendar/0/deeplink/compose?")
        fields = query(outlook)
        assert fields["subject"] == event.title
        assert fields["startdt"] == f"{when.start:%Y-%m-%dT%H:%M:%S}Z"
        assert fields["enddt"] == f"{when.end:%Y-%m-%dT%H:%M:%S}Z"
        assert "meet.example.se" not in outlook
    series_page = (await client.get(f"/series/{SERIES}")).text
    assert_subscribe_links(
        series_page, f"{BASE}/series/{SERIES}/calendar.ics", f"Lunchkafé: {SERIES_TITLE}"
    )
    assert_subscribe_links((await client.get("/")).text, f"{BASE}/calendar.ics", "Lunchkafé")
    for url in (f"{BASE}/series/{SERIES}/calendar.ics", f"{BASE}/calendar.ics"):
        assert len(read((await calendar_file(client, url)).content)) == len(TIMES)


# === 7. the feed cache shared through Redis ================================================

REDIS_URL = "redis://127.0.0.1:6379/6"


@pytest.fixture
async def redis() -> AsyncIterator[object]:
    async with flushed_redis(REDIS_URL) as client:
        yield client


@dataclass
class Process:
    """One web process: its own Services (engine, Redis connection) and app."""

    services: Services
    client: httpx.AsyncClient

    @classmethod
    async def start(cls, database_url: str, var_dir: Path) -> Process:
        built = Services.build(make_settings(database_url, var_dir, REDIS_URL=REDIS_URL))
        app = create_app(built.settings, built)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        return cls(built, client)

    async def close(self) -> None:
        await self.client.aclose()
        await self.services.close()


async def test_two_processes_share_the_feed_through_redis(
    services: Services, redis: object, tmp_path: Path
) -> None:
    from redis.asyncio import Redis

    assert isinstance(redis, Redis)
    events = [event for event, _ in await make_times_series(services)]
    first = await Process.start(services.settings.database_url, tmp_path / "one")
    second = await Process.start(services.settings.database_url, tmp_path / "two")
    try:
        url = f"/series/{SERIES}/calendar.ics"
        built = await calendar_file(first.client, url)
        keys = [key.decode() async for key in redis.scan_iter("lunchkafe:feed:*")]
        assert len(keys) == 1, keys
        stored = await redis.get(keys[0])
        assert stored is not None
        assert stored.endswith(built.content)
        # Mark the shared copy: if the second process answers with the mark, it served
        # Redis's bytes rather than building its own.
        await redis.set(keys[0], stored + b"X-SHARED-MARK\r\n")
        shared = await calendar_file(second.client, url)
        assert shared.content == built.content + b"X-SHARED-MARK\r\n"
        assert shared.headers["etag"] == built.headers["etag"]
        assert shared.headers["last-modified"] == built.headers["last-modified"]
        assert (
            await fetch(second.client, url, if_none_match=built.headers["etag"])
        ).status_code == 304

        # A change anywhere makes a new key: the changing process serves the new bytes at
        # once, another process within FeedMemo.ttl (it remembers the key that long).
        async with first.services.transaction() as session:
            await update_event(session, events[0].id, EventChanges(title="Nytt namn"))
        await asyncio.sleep(FeedMemo.ttl)
        from_second = await calendar_file(second.client, url)
        from_first = await calendar_file(first.client, url)
        assert from_first.content == from_second.content
        assert from_first.headers["etag"] == from_second.headers["etag"] != built.headers["etag"]
        assert b"X-SHARED-MARK" not in from_first.content
        assert b"SUMMARY:Nytt namn" in from_first.content
        assert len([key async for key in redis.scan_iter("lunchkafe:feed:*")]) == 2
        # Without Redis's copy (evicted, flushed) a process still answers, from its own build.
        await redis.flushdb()
        assert (await calendar_file(second.client, "/calendar.ics")).content.count(
            b"BEGIN:VEVENT"
        ) == len(TIMES)
    finally:
        await first.close()
        await second.close()
