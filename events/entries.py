"""Turning an event into what calendars see, for the public and for a confirmed attendee.

The join link is the line between the two: only a confirmed attendee's entry carries it.
"""

from __future__ import annotations

from events.calendar import CalendarEntry
from events.models import Event, EventStatus
from foundation.errors import N_
from foundation.i18n import translations

# The invite's own words, in the language of the person it goes to.
JOIN = N_("Anslut till mötet: %(url)s")
PLACE = N_("Plats: %(venue)s")
MANAGE = N_("Avboka eller se din bokning: %(url)s")


def public_entry(event: Event, *, event_url: str) -> CalendarEntry:
    """For feeds and the public .ics download: no join link, ever."""
    description = "\n\n".join(p for p in (event.summary, event.description) if p.strip())
    return CalendarEntry(
        uid=event.uid,
        sequence=event.sequence,
        title=event.title,
        description=f"{description}\n\n{event_url}".strip(),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=event.venue or ("Digitalt" if event.join_url else None),
        url=event_url,
        cancelled=event.status == EventStatus.CANCELLED,
        last_modified=event.updated_at,
    )


def cancel_entry(
    event: Event,
    *,
    event_url: str,
    sequence: int,
    manage_url: str | None = None,
    language: str = "sv",
) -> CalendarEntry:
    """For a CANCEL (an event cancelled, or one person's seat): the attendee's entry without
    the join link, in DESCRIPTION or as LOCATION ("Digitalt" instead), since it goes to
    someone losing their seat. RFC 5546 §3.2.5 asks of a CANCEL only UID, SEQUENCE, DTSTAMP,
    ORGANIZER and ATTENDEE; the title, times, place, page and manage link stay, as clients
    show them when saying what was cancelled (ICAL.md rule 7)."""
    return _entry(event, event_url, sequence, manage_url, language, join_url=None)


def attendee_entry(
    event: Event,
    *,
    event_url: str,
    sequence: int,
    manage_url: str | None = None,
    language: str = "sv",
) -> CalendarEntry:
    """For a confirmed attendee's invite and personal feed: with the join link.

    `manage_url` only for one booking's own invite or download. A feed spans many bookings
    and travels further (shared calendars, sync services), so its entries carry none.
    `language` ("sv", "en") is the attendee's: the description's words are in it.
    """
    return _entry(event, event_url, sequence, manage_url, language, join_url=event.join_url)


def _entry(
    event: Event,
    event_url: str,
    sequence: int,
    manage_url: str | None,
    language: str,
    *,
    join_url: str | None,
) -> CalendarEntry:
    said = translations(language).gettext
    parts = [event.summary]
    if join_url:
        parts.append(said(JOIN) % {"url": join_url})
    if event.venue:
        parts.append(said(PLACE) % {"venue": event.venue})
    if manage_url:
        parts.append(said(MANAGE) % {"url": manage_url})
    online = "Digitalt" if event.join_url else None  # as the public entry says it
    location = event.venue or join_url or online
    return CalendarEntry(
        uid=event.uid,
        sequence=sequence,
        title=event.title,
        description="\n\n".join(p for p in parts if p and p.strip()),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=location,
        url=event_url,
        cancelled=event.status == EventStatus.CANCELLED,
        last_modified=event.updated_at,
    )
