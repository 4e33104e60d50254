"""Whether an event is open for booking at a moment, and if not, why (DESIGN: events own it).

The reasons are said to whoever asks, attendee or stranger alike, so they hold only what the
event's public page shows: cancelled, not yet open (and when it opens), closed, begun.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from events.errors import EventError
from events.models import Event, EventStatus
from events.schedule import registration_window
from foundation.errors import N_

MSG_NOT_PUBLISHED = N_("Evenemanget är inte publicerat.")
MSG_CANCELLED = N_("Evenemanget är inställt.")
MSG_NOT_YET_OPEN = N_("Anmälan har inte öppnat än. Den öppnar %(opens)s.")
MSG_CLOSED = N_("Anmälan har stängt.")
MSG_STARTED = N_("Evenemanget har redan börjat.")


class BookingClosed(EventError):
    """The event exists but cannot be booked now; the msgid says why.

    `opens_at`, when registration has yet to open, fills the msgid's %(opens)s: in Swedish
    in the instant's own zone for `message`, in the reader's language on a page.
    """

    code = "not_open"
    status = 409

    def __init__(self, msgid: str, *, opens_at: datetime | None = None) -> None:
        if opens_at is None:
            super().__init__(msgid)
        else:
            super().__init__(msgid, opens=opens_at)


def check_bookable(event: Event, now: datetime, *, tz_name: str = "Europe/Stockholm") -> None:
    """Raise BookingClosed with the reason when the event cannot be booked at `now`."""
    if event.status == EventStatus.CANCELLED:
        raise BookingClosed(MSG_CANCELLED)
    if event.status != EventStatus.PUBLISHED:
        raise BookingClosed(MSG_NOT_PUBLISHED)
    opens, closes = registration_window(event)
    if opens is not None and now < opens:
        raise BookingClosed(MSG_NOT_YET_OPEN, opens_at=opens.astimezone(ZoneInfo(tz_name)))
    if now >= closes:
        raise BookingClosed(MSG_STARTED if now >= event.starts_at else MSG_CLOSED)


def split_bookable(
    events: list[Event], now: datetime, *, tz_name: str = "Europe/Stockholm"
) -> tuple[list[Event], list[tuple[Event, BookingClosed]]]:
    """`events` parted into those bookable at `now` and those not, each with its reason."""
    bookable: list[Event] = []
    closed: list[tuple[Event, BookingClosed]] = []
    for event in events:
        try:
            check_bookable(event, now, tz_name=tz_name)
        except BookingClosed as exc:
            closed.append((event, exc))
        else:
            bookable.append(event)
    return bookable, closed
