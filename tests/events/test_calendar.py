"""events.calendar checked by four independent iCalendar implementations (tests/calendars.py).

Every parser is made to resolve TZID times through the VTIMEZONE written in the file (not
through its own zone database), and the resulting UTC instants are compared with expected
values written out literally below, so a wrong VTIMEZONE rule cannot hide behind a parser
that silently uses the system's tzdata.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from events.calendar import (
    PRODID,
    CalendarEntry,
    build_feed,
    build_invite,
    feed_subscribe_links,
    google_calendar_link,
    outlook_calendar_link,
    stockholm_timezone,
)
from tests.calendars import (
    STHLM,
    TRICKY,
    LibIcal,
    Parsed,
    Reader,
    read_ical,
    read_icalendar,
    unfolded,
)

ROOT = Path(__file__).resolve().parents[2]
ORGANISER = ("kafe@lunchkafe.example", "Lunchkafé, Sundsvall")
ATTENDEE = ("asa.ostlund@example.se", 'Åsa Östlund; "Å"')
NOW = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    name: str
    start: datetime  # the instant every parser must find, spelled out in UTC
    end: datetime
    local_start: str  # the DTSTART value expected in the file
    local_end: str


CASES = [
    Case(
        "winter", utc(2026, 1, 15, 11), utc(2026, 1, 15, 12), "20260115T120000", "20260115T130000"
    ),
    Case("summer", utc(2026, 7, 2, 10), utc(2026, 7, 2, 11), "20260702T120000", "20260702T130000"),
    Case(
        "spring-noon",
        utc(2026, 3, 29, 10),
        utc(2026, 3, 29, 11),
        "20260329T120000",
        "20260329T130000",
    ),
    # 01:30 CET to 03:30 CEST: one real hour across the spring-forward gap.
    Case(
        "spring-span",
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 1, 30),
        "20260329T013000",
        "20260329T033000",
    ),
    Case(
        "autumn-noon",
        utc(2026, 10, 25, 11),
        utc(2026, 10, 25, 12),
        "20261025T120000",
        "20261025T130000",
    ),
    # 01:30 CEST to 03:30 CET: three real hours across the repeated hour.
    Case(
        "autumn-span",
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 2, 30),
        "20261025T013000",
        "20261025T033000",
    ),
    # Both ends inside the repeated 02:00-03:00 hour: only UTC is unambiguous (ical.js reads an
    # ambiguous TZID time as the second occurrence, RFC 5545 says the first).
    Case(
        "autumn-repeated-hour",
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 45),
        "20261025T003000Z",
        "20261025T014500Z",
    ),
]
# Callers may hand over any aware datetime; the module must convert, not reinterpret.
INPUT_ZONES = ["UTC", STHLM, "America/New_York", "Asia/Kolkata"]


def entry_for(index: int, case: Case) -> CalendarEntry:
    zone = ZoneInfo(INPUT_ZONES[index % len(INPUT_ZONES)])
    return CalendarEntry(
        uid=f"event-{index + 1}@lunchkafe.example",
        sequence=index,
        title=f"{case.name}: {TRICKY}",
        description=TRICKY,
        starts_at=case.start.astimezone(zone),
        ends_at=case.end.astimezone(zone),
        location=f"Sal Ärla; {TRICKY}",
        url=f"https://lunchkafe.example/evenemang/{index + 1}",
        cancelled=False,
        last_modified=utc(2025, 12, 1, 9, index),
    )


ENTRIES = [entry_for(i, case) for i, case in enumerate(CASES)]
CASE_BY_UID = {entry.uid: case for entry, case in zip(ENTRIES, CASES, strict=True)}


def invite(entry: CalendarEntry, method: Literal["REQUEST", "CANCEL"] = "REQUEST") -> bytes:
    return build_invite(
        entry,
        method=method,
        organiser_email=ORGANISER[0],
        organiser_name=ORGANISER[1],
        attendee_email=ATTENDEE[0],
        attendee_name=ATTENDEE[1],
        now=NOW,
    )


@pytest.fixture(params=["icalendar", "ical", "ical.js", "libical"])
def reader(request: pytest.FixtureRequest) -> Reader:
    if request.param == "icalendar":
        return read_icalendar
    if request.param == "ical":
        return read_ical
    if request.param == "ical.js":
        js: Reader = request.getfixturevalue("read_icaljs")
        return js
    lib: LibIcal = request.getfixturevalue("libical")
    return lib.read


# --- the time zone block ------------------------------------------------------------------


def test_vtimezone_is_one_standard_and_one_daylight_with_yearly_rules() -> None:
    timezone = stockholm_timezone()
    assert timezone["TZID"] == STHLM
    kinds = [
        (sub.name, sub["TZOFFSETFROM"].to_ical(), sub["TZOFFSETTO"].to_ical())
        for sub in timezone.subcomponents
    ]
    assert kinds == [("DAYLIGHT", "+0100", "+0200"), ("STANDARD", "+0200", "+0100")]
    for sub, month, hour in zip(timezone.subcomponents, (3, 10), (2, 3), strict=True):
        assert "RDATE" not in sub
        assert sub["RRULE"].to_ical() == f"FREQ=YEARLY;BYDAY=-1SU;BYMONTH={month}".encode()
        start = sub.decoded("DTSTART")
        # DTSTART must itself be a last Sunday at the switch hour, or the rule set is invalid.
        assert (start.weekday(), start.hour, (start + timedelta(days=7)).month) == (
            6,
            hour,
            month + 1,
        )
    lines = unfolded(invite(ENTRIES[0]))
    assert lines.count("BEGIN:VTIMEZONE") == 1
    assert not any(line.startswith("RDATE") for line in lines)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case.name for case in CASES])
def test_times_are_written_as_stockholm_wall_clock(index: int) -> None:
    case = CASES[index]
    lines = unfolded(invite(ENTRIES[index]))
    for name, value in (("DTSTART", case.local_start), ("DTEND", case.local_end)):
        expected = f"{name}:{value}" if value.endswith("Z") else f"{name};TZID={STHLM}:{value}"
        assert expected in lines


# --- every parser reads the same instants and the same text -------------------------------


def assert_same_instants(parsed: list[Parsed], entries: list[CalendarEntry]) -> None:
    assert [p.uid for p in parsed] == [e.uid for e in entries]
    for got, entry in zip(parsed, entries, strict=True):
        case = CASE_BY_UID[entry.uid]
        assert (got.start, got.end) == (case.start, case.end), case.name
        assert got.description == entry.description == TRICKY
        assert got.location == entry.location
        assert got.sequence == entry.sequence


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_invites_read_the_same_by_every_parser(
    reader: Reader, method: Literal["REQUEST", "CANCEL"]
) -> None:
    for entry in ENTRIES:
        (got,) = reader(invite(entry, method))
        assert_same_instants([got], [entry])
        assert got.method == method
        assert got.summary == entry.title
        assert got.status == ("CONFIRMED" if method == "REQUEST" else "CANCELLED")
        assert (got.attendees, got.alarms) == (1, 0)


def test_feed_read_the_same_by_every_parser(reader: Reader) -> None:
    cancelled = {ENTRIES[1].uid, ENTRIES[4].uid}
    entries = [replace(e, cancelled=True) if e.uid in cancelled else e for e in ENTRIES]
    parsed = reader(build_feed(entries, name="Lunchkafé; alla", description=TRICKY))
    in_order = sorted(entries, key=lambda e: CASE_BY_UID[e.uid].start)
    assert_same_instants(parsed, in_order)
    for got, entry in zip(parsed, in_order, strict=True):
        assert got.method is None
        assert got.attendees == 0
        if entry.cancelled:
            assert (got.status, got.summary) == ("CANCELLED", "INSTÄLLT: " + entry.title)
        else:
            assert (got.status, got.summary) == ("CONFIRMED", entry.title)


def test_folding_keeps_text_exact(reader: Reader) -> None:
    # icalendar folds at 75 octets; shifting the text one octet at a time puts every kind of
    # character (space, escaped comma and newline, backslash, 2- and 4-byte UTF-8) on a fold.
    base = ENTRIES[0]
    entries = [
        replace(base, uid=f"fold-{n}@lunchkafe.example", description="x" * n + TRICKY)
        for n in range(80)
    ]
    parsed = reader(build_feed(entries, name="x"))
    assert {p.uid: p.description for p in parsed} == {e.uid: e.description for e in entries}


# --- iTIP shape ---------------------------------------------------------------------------


def test_request_and_cancel_shape() -> None:
    entry = ENTRIES[1]
    request = icalendar.Calendar.from_ical(invite(entry))
    cancel = icalendar.Calendar.from_ical(
        invite(replace(entry, sequence=entry.sequence + 1), "CANCEL")
    )
    for calendar, method, status, sequence in (
        (request, "REQUEST", "CONFIRMED", entry.sequence),
        (cancel, "CANCEL", "CANCELLED", entry.sequence + 1),
    ):
        assert (calendar["METHOD"], calendar["PRODID"], calendar["VERSION"]) == (
            method,
            PRODID,
            "2.0",
        )
        assert "UID" not in calendar
        (event,) = calendar.events
        assert (event["UID"], event["STATUS"], event["SEQUENCE"]) == (entry.uid, status, sequence)
        assert event.decoded("DTSTAMP") == NOW
        assert event["URL"] == entry.url
        assert event.walk("VALARM") == []
        organiser = event["ORGANIZER"]
        assert (organiser, organiser.params["CN"]) == (f"mailto:{ORGANISER[0]}", ORGANISER[1])
        (attendee,) = event.attendees
        assert attendee == f"mailto:{ATTENDEE[0]}"
        assert dict(attendee.params) == {
            "CN": ATTENDEE[1],
            "ROLE": "REQ-PARTICIPANT",
            "PARTSTAT": "ACCEPTED",
            "RSVP": "FALSE",
        }


def test_invite_refuses_what_mail_clients_mishandle() -> None:
    with pytest.raises(ValueError, match="REQUEST and CANCEL"):
        invite(ENTRIES[0], "PUBLISH")  # type: ignore[arg-type]  # refused at run time too
    with pytest.raises(ValueError, match="recipient"):
        build_invite(
            ENTRIES[0],
            method="REQUEST",
            organiser_email="A@x.se",
            organiser_name="A",
            attendee_email="a@X.se",
            attendee_name="A",
            now=NOW,
        )
    with pytest.raises(ValueError, match="naive"):
        invite(replace(ENTRIES[0], starts_at=datetime(2026, 1, 15, 12)))
    with pytest.raises(ValueError, match="after"):
        invite(replace(ENTRIES[0], ends_at=ENTRIES[0].starts_at))


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_libical_itip_restriction_tables_pass(
    libical: LibIcal, method: Literal["REQUEST", "CANCEL"]
) -> None:
    for entry in ENTRIES:
        with libical.parse(invite(entry, method)) as root:
            assert libical.lib.icalrestriction_check(root) == 1, libical.errors(root)
            assert libical.errors(root) == []


def test_libical_restriction_check_is_not_vacuous(libical: LibIcal) -> None:
    # libical 3.0 does not enforce every RFC 5546 cell: it accepts a VALARM in CANCEL and a
    # CANCEL with STATUS:CONFIRMED, which test_request_and_cancel_shape covers instead. It
    # does enforce cardinalities, so prove it rejects a REQUEST without ORGANIZER.
    broken = re.sub(rb"ORGANIZER[^\r]*\r\n( [^\r]*\r\n)*", b"", invite(ENTRIES[0]))
    with libical.parse(broken) as root:
        assert libical.lib.icalrestriction_check(root) == 0
        assert any("ORGANIZER" in error for error in libical.errors(root))


def test_libical_passes_a_feed_which_declares_no_method(libical: LibIcal) -> None:
    # Feeds are subscriptions, not iTIP messages, so they declare no METHOD (see build_feed).
    # Declaring PUBLISH would bind them to RFC 5546's PUBLISH table, which wants an
    # ORGANIZER they do not carry: the check is not vacuous, it fails that file.
    feed = build_feed(ENTRIES, name="Lunchkafé")
    with libical.parse(feed) as root:
        assert libical.lib.icalrestriction_check(root) == 1, libical.errors(root)
        assert libical.errors(root) == []
    published = feed.replace(b"VERSION:2.0\r\n", b"VERSION:2.0\r\nMETHOD:PUBLISH\r\n")
    with libical.parse(published) as root:
        assert libical.lib.icalrestriction_check(root) == 0
        errors = libical.errors(root)
    assert errors
    assert all("ORGANIZER property. Expected 1 instances" in error for error in errors)


# --- feeds --------------------------------------------------------------------------------


def test_feed_bytes_are_deterministic_and_sorted() -> None:
    # Two entries at the same instant, to pin the UID tie-break.
    twin = replace(ENTRIES[0], uid="event-0@lunchkafe.example")
    entries = [*ENTRIES, twin]
    first = build_feed(entries, name="Lunchkafé")
    assert build_feed(entries, name="Lunchkafé") == first
    shuffled = entries.copy()
    random.Random(5545).shuffle(shuffled)
    assert build_feed(shuffled, name="Lunchkafé") == first
    assert build_feed(list(reversed(entries)), name="Lunchkafé") == first
    uids = [line.removeprefix("UID:") for line in unfolded(first) if line.startswith("UID:")]
    expected = sorted(entries, key=lambda e: (CASE_BY_UID.get(e.uid, CASES[0]).start, e.uid))
    assert uids == [e.uid for e in expected]
    assert uids[:2] == ["event-0@lunchkafe.example", "event-1@lunchkafe.example"]


def test_feed_bytes_are_the_same_in_another_process() -> None:
    # ETags must agree between workers and across restarts, whatever the hash seed.
    script = (
        "import sys, tests.events.test_calendar as t; "
        "sys.stdout.buffer.write(t.build_feed(t.ENTRIES, name='Lunchkafé'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {build_feed(ENTRIES, name="Lunchkafé")}


def test_feed_calendar_properties() -> None:
    data = build_feed(ENTRIES, name="Lunchkafé Sundsvall", description="Alla kaféer")
    lines = unfolded(data)
    assert not [line for line in lines if line.startswith("METHOD")]
    for expected in (
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "NAME:Lunchkafé Sundsvall",
        "X-WR-CALNAME:Lunchkafé Sundsvall",
        "X-WR-CALDESC:Alla kaféer",
        f"X-WR-TIMEZONE:{STHLM}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ):
        assert expected in lines
    assert not any(line.startswith(("ATTENDEE", "ORGANIZER")) for line in lines)
    assert data.count(b"BEGIN:VALARM") == 0
    calendar = icalendar.Calendar.from_ical(data)
    assert "UID" not in calendar  # a random calendar UID would change the bytes every time
    stamps = {str(e["UID"]): e.decoded("DTSTAMP") for e in calendar.events}
    assert stamps == {e.uid: e.last_modified for e in ENTRIES}


def rfc5545_text(value: str) -> str:
    # Written out here rather than taken from icalendar, which is what is under test.
    for raw, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        value = value.replace(raw, escaped)
    return value


def test_feed_name_and_description_are_escaped_text() -> None:
    data = build_feed(ENTRIES, name=TRICKY, description=TRICKY)
    lines = unfolded(data)
    for prop in ("NAME", "X-WR-CALNAME", "DESCRIPTION", "X-WR-CALDESC"):
        assert f"{prop}:{rfc5545_text(TRICKY)}" in lines
    # `ical` knows RFC 7986 NAME as TEXT and unescapes it (icalendar and ical.js keep it raw).
    calendar = IcsCalendarStream.calendar_from_ics(data.decode())
    assert (calendar.name, calendar.description) == ([TRICKY], [TRICKY])


def test_feed_stamp_is_last_change_in_utc() -> None:
    entry = replace(ENTRIES[0], last_modified=datetime(2026, 7, 1, 12, tzinfo=ZoneInfo(STHLM)))
    lines = unfolded(build_feed([entry], name="x"))
    assert "DTSTAMP:20260701T100000Z" in lines
    assert "LAST-MODIFIED:20260701T100000Z" in lines


def test_empty_feed_is_valid() -> None:
    calendar = IcsCalendarStream.calendar_from_ics(build_feed([], name="Tomt").decode())
    assert calendar.events == []


# --- links --------------------------------------------------------------------------------


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, strict_parsing=True)


def test_google_event_link() -> None:
    entry = ENTRIES[3]  # spring-span: UTC conversion across the gap
    url = google_calendar_link(entry, details=TRICKY)
    assert url.startswith("https://calendar.google.com/calendar/render?")
    assert "+" not in url
    assert query(url) == {
        "action": ["TEMPLATE"],
        "text": [entry.title],
        "details": [TRICKY],
        "dates": ["20260329T003000Z/20260329T013000Z"],
        "location": [entry.location],
    }
    assert "&dates=20260329T003000Z/20260329T013000Z&" in url
    assert "location" not in query(google_calendar_link(replace(entry, location=None), "x"))


def test_outlook_event_link() -> None:
    entry = ENTRIES[0]
    url = outlook_calendar_link(entry, details=TRICKY)
    assert url.startswith("https://outlook.office.com/calendar/0/deeplink/compose?")
    assert "+" not in url  # Outlook shows a "+" for a space literally
    assert query(url) == {
        "subject": [entry.title],
        "body": [TRICKY],
        "location": [entry.location],
        "startdt": ["2026-01-15T11:00:00Z"],
        "enddt": ["2026-01-15T12:00:00Z"],
    }


def test_feed_subscribe_links() -> None:
    feed = "https://lunchkafe.example/kalender/serie/abc.ics?lang=sv&x=1"
    links = feed_subscribe_links(feed, "Lunchkafé & vänner")
    assert links["webcal"] == "webcal://lunchkafe.example/kalender/serie/abc.ics?lang=sv&x=1"
    assert links["google"].startswith("https://calendar.google.com/calendar/render?cid=")
    assert query(links["google"]) == {"cid": [links["webcal"]]}
    assert links["outlook"].startswith("https://outlook.live.com/calendar/0/addfromweb?")
    assert query(links["outlook"]) == {"url": [feed], "name": ["Lunchkafé & vänner"]}
    with pytest.raises(ValueError, match="https"):
        feed_subscribe_links("ftp://lunchkafe.example/a.ics", "x")
    assert feed_subscribe_links("http://127.0.0.1:8000/a.ics", "x")["webcal"] == (
        "webcal://127.0.0.1:8000/a.ics"
    )
