"""Every iCalendar byte the product sends: mailed invites (iTIP/iMIP) and subscription feeds.

The rules come from /work/shared/ICAL.md. Everything is built with the `icalendar` library so
that escaping, folding and parameter quoting are never done by hand. This module deliberately
knows nothing about the database: callers map their rows onto `CalendarEntry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vRecur,
    vText,
)

from foundation.text import neutral_line

PRODID = "-//Lunchkafé//Lunchkafé//SV"
TZID = "Europe/Stockholm"
CANCELLED_PREFIX = "INSTÄLLT: "
_STOCKHOLM = ZoneInfo(TZID)
_FEED_REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEntry:
    """One occurrence as calendars see it. Datetimes must be aware (any zone); uid and
    sequence come from the event row (ICAL.md invites rules 5 and 6)."""

    uid: str
    sequence: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    url: str | None
    cancelled: bool
    last_modified: datetime


def stockholm_timezone() -> Timezone:
    """Rule-based VTIMEZONE for Europe/Stockholm (EU rules since 1996).

    Hand-written instead of `add_missing_timezones()`: that one emits RDATE lists, of which
    ical.js (Thunderbird) reads only the first value and shifts summer events by an hour, and
    Outlook wants exactly one STANDARD and one DAYLIGHT with a yearly RRULE. 1970 is the base
    year Outlook, Google and Thunderbird use in their own exports; 29 March and 25 October 1970
    are the last Sundays of their months, so DTSTART agrees with the RRULE as RFC 5545 requires.
    """
    daylight = TimezoneDaylight()
    daylight.add("DTSTART", datetime(1970, 3, 29, 2, 0, 0))
    daylight.add("TZOFFSETFROM", timedelta(hours=1))
    daylight.add("TZOFFSETTO", timedelta(hours=2))
    daylight.add("TZNAME", "CEST")
    daylight.add("RRULE", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    standard = TimezoneStandard()
    standard.add("DTSTART", datetime(1970, 10, 25, 3, 0, 0))
    standard.add("TZOFFSETFROM", timedelta(hours=2))
    standard.add("TZOFFSETTO", timedelta(hours=1))
    standard.add("TZNAME", "CET")
    standard.add("RRULE", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    timezone = Timezone()
    timezone.add("TZID", TZID)
    timezone.add_component(daylight)
    timezone.add_component(standard)
    return timezone


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        # A floating time would be read in each client's own zone (ICAL.md, invites rule 8).
        raise ValueError(f"naive datetime not allowed in calendar data: {value!r}")
    return value.astimezone(UTC)


def _local(value: datetime) -> datetime:
    """Stockholm wall time, except UTC inside the repeated 02:00-03:00 hour in October.

    RFC 5545 says an ambiguous TZID time means its first occurrence, but ical.js (Thunderbird)
    picks the second, and the second cannot be written with a TZID at all. UTC is unambiguous
    everywhere and allowed by ICAL.md (invites rule 8).
    """
    local = _utc(value).astimezone(_STOCKHOLM)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        return local.astimezone(UTC)
    return local


def _calendar(method: str | None) -> Calendar:
    # Plain Calendar() rather than Calendar.new(): new() adds a random UID and a
    # REFRESH-INTERVAL without VALUE=DURATION, both wrong here.
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    if method is not None:
        calendar.add("METHOD", method)
    calendar.add_component(stockholm_timezone())
    return calendar


def _serialise(calendar: Calendar) -> bytes:
    data: bytes = calendar.to_ical()  # to_ical() is unannotated in icalendar
    return data


def _event(entry: CalendarEntry, *, summary: str, stamp: datetime, status: str) -> Event:
    if _utc(entry.ends_at) <= _utc(entry.starts_at):
        raise ValueError(f"{entry.uid}: ends_at must be after starts_at")
    # Plain Event() rather than Event.new(): new() fills in a random UID and DTSTAMP=now.
    event = Event()
    event.add("UID", entry.uid)
    event.add("DTSTAMP", _utc(stamp))
    event.add("DTSTART", _local(entry.starts_at))
    event.add("DTEND", _local(entry.ends_at))
    event.add("SEQUENCE", entry.sequence)
    event.add("SUMMARY", summary)
    if entry.description:
        event.add("DESCRIPTION", entry.description)
    if entry.location:
        event.add("LOCATION", entry.location)
    if entry.url:
        event.add("URL", entry.url)
    event.add("STATUS", status)
    return event


def build_invite(
    entry: CalendarEntry,
    *,
    method: Literal["REQUEST", "CANCEL"],
    organiser_email: str,
    organiser_name: str,
    attendee_email: str,
    attendee_name: str,
    now: datetime,
) -> bytes:
    """One iMIP message body for one recipient: METHOD:REQUEST (new/updated) or METHOD:CANCEL.

    For CANCEL the caller passes the already bumped sequence; clients drop the entry only when
    UID matches and SEQUENCE is not lower than what they hold.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"only REQUEST and CANCEL go by mail, not {method!r}")
    if organiser_email.casefold() == attendee_email.casefold():
        # Google and Outlook treat an invite to the organiser as the organiser's own event.
        raise ValueError("the organiser mailbox must not be the recipient")
    calendar = _calendar(method)
    event = _event(
        entry,
        summary=entry.title,
        stamp=now,
        status="CONFIRMED" if method == "REQUEST" else "CANCELLED",
    )
    event.add("ORGANIZER", vCalAddress.new(organiser_email, cn=organiser_name))
    # The booking is already made on the site, so the attendee is ACCEPTED with RSVP=FALSE,
    # the combination booking systems use for confirmations: Google files the entry as "going"
    # instead of asking, and Outlook/Google have no reason to send a REPLY to an organiser
    # mailbox that does not process replies. NEEDS-ACTION would show Yes/No/Maybe buttons
    # whose answers are lost, and a "No" there would silently not cancel the booking.
    event.add(
        "ATTENDEE",
        vCalAddress.new(
            attendee_email,
            # RFC 5545 §3.1: a parameter value holds no CONTROL; icalendar escapes quotes and
            # line breaks (RFC 6868) but passes NUL, ESC or a bidi override through as is.
            cn=neutral_line(attendee_name),
            role="REQ-PARTICIPANT",
            partstat="ACCEPTED",
            rsvp=False,
        ),
    )
    # No VALARM even in REQUEST: clients disagree on alarms in received invites (Google drops
    # them, Apple keeps them on top of the user's default reminder), so the user's own default
    # reminder is the one predictable behaviour.
    calendar.add_component(event)
    return _serialise(calendar)


def build_feed(
    entries: Sequence[CalendarEntry], *, name: str, description: str | None = None
) -> bytes:
    """A subscription feed or a downloaded .ics, without METHOD; identical input gives
    identical bytes (stable ETag).

    Callers decide what goes into `location` (no join link in public or series feeds) and
    which cancelled entries to keep; there is never an ATTENDEE or ORGANIZER here.
    """
    # No METHOD: a feed is a snapshot to subscribe to, not an iTIP message (RFC 5545 3.7.2:
    # without METHOD "a scheduling transaction MUST NOT be assumed"). METHOD:PUBLISH would
    # bind every VEVENT to RFC 5546's PUBLISH table, which requires an ORGANIZER; one in a
    # feed makes Outlook and Apple Calendar show meetings with an organiser (and offer to
    # reply or to email them) for what is a public schedule, and the personal feed would name
    # the organisers on events the person merely booked. Subscribers (Google, Outlook,
    # Apple, Thunderbird) read feeds without METHOD alike; mail keeps REQUEST and CANCEL.
    calendar = _calendar(None)
    # Explicit vText: icalendar writes a plain str for NAME and X- properties unescaped, and
    # a newline there even aborts serialisation.
    calendar.add("NAME", vText(name))
    calendar.add("X-WR-CALNAME", vText(name))
    if description:
        calendar.add("DESCRIPTION", vText(description))
        calendar.add("X-WR-CALDESC", vText(description))
    calendar.add("X-WR-TIMEZONE", TZID)
    # RFC 7986 requires VALUE=DURATION on REFRESH-INTERVAL; X-PUBLISHED-TTL is read as text.
    calendar.add("REFRESH-INTERVAL", _FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vText("PT1H"))
    for entry in sorted(entries, key=lambda e: (_utc(e.starts_at), e.uid)):
        summary = CANCELLED_PREFIX + entry.title if entry.cancelled else entry.title
        status = "CANCELLED" if entry.cancelled else "CONFIRMED"
        # DTSTAMP is the last change, not "now", so an unchanged feed keeps its bytes.
        event = _event(entry, summary=summary, stamp=entry.last_modified, status=status)
        event.add("LAST-MODIFIED", _utc(entry.last_modified))
        calendar.add_component(event)
    return _serialise(calendar)


def _query(pairs: Sequence[tuple[str, str]]) -> str:
    # quote() rather than urlencode(): Outlook's compose deeplink shows a "+" for a space
    # literally. Google's dates=START/END keeps its slash as in Google's own examples.
    return "&".join(
        f"{key}={quote(value, safe='/' if key == 'dates' else '')}" for key, value in pairs
    )


def google_calendar_link(entry: CalendarEntry, details: str) -> str:
    """Google Calendar "add event" URL for one entry (times in UTC, Google's basic format)."""

    def stamp(value: datetime) -> str:
        return _utc(value).strftime("%Y%m%dT%H%M%SZ")

    pairs = [
        ("action", "TEMPLATE"),
        ("text", entry.title),
        ("dates", f"{stamp(entry.starts_at)}/{stamp(entry.ends_at)}"),
        ("details", details),
    ]
    if entry.location:
        pairs.append(("location", entry.location))
    return "https://calendar.google.com/calendar/render?" + _query(pairs)


def outlook_calendar_link(entry: CalendarEntry, details: str) -> str:
    """Outlook on the web "new event" deeplink for one entry (ISO 8601 UTC times)."""

    def stamp(value: datetime) -> str:
        return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")

    pairs = [
        ("subject", entry.title),
        ("startdt", stamp(entry.starts_at)),
        ("enddt", stamp(entry.ends_at)),
        ("body", details),
    ]
    if entry.location:
        pairs.append(("location", entry.location))
    return "https://outlook.office.com/calendar/0/deeplink/compose?" + _query(pairs)


def feed_subscribe_links(feed_url: str, name: str) -> dict[str, str]:
    """Subscribe URLs for a feed: webcal (Apple, Thunderbird, desktop Outlook), Google, Outlook.

    webcal:// stands for the feed's own http or https URL; production sites serve https,
    and a local `make run` on http still gets working links.
    """
    scheme, sep, rest = feed_url.partition("://")
    if scheme.lower() not in ("https", "http") or not sep or not rest:
        raise ValueError(f"feed URL must be http:// or https://: {feed_url!r}")
    webcal = "webcal://" + rest
    return {
        "webcal": webcal,
        # Encoded in full so that a query string in the feed URL stays inside cid=.
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + _query([("url", feed_url), ("name", name)]),
    }
