"""What whoever sent a booking is told back: the same for every address (issue 7, item 1).

Whoever fills in a booking may not own the address they type, so the answer to a booking,
page or API, is a receipt built only from the request and the events' public state. It never
says whether the address already held a seat, whether it got a seat or a place in line, nor
links to the booking: that goes by mail to the address (the confirmation, the waitlist mail,
or the link again for a repeat). A new booking and a repeat therefore answer alike, and
nobody learns from the answer who is booked where.

What a receipt cannot hide (README, "JSON API"): a booking that creates a registration takes
a seat and counts against the address's booking limit, and seat counts are public; so
whoever books with an address they do not own can tell, by watching those, whether it held
the event, at the price of booking it if not, which mails its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.models import Event
from events.opening import BookingClosed


@dataclass(frozen=True)
class Receipt:
    """`email` is where the mail goes, as the booker typed it (after validation), or None on
    a page opened again after the note carrying it ran out (foundation/flash.py); `events`
    are the events the booking was received for, in start order, booked and already held
    alike; `skipped` are a series' events that could not be booked, with the public reason."""

    email: str | None
    events: tuple[Event, ...]
    skipped: tuple[tuple[Event, BookingClosed], ...] = ()


def for_event(email: str | None, event: Event) -> Receipt:
    """The receipt of a booking of one event."""
    return Receipt(email=email, events=(event,))


def for_series(
    email: str | None, bookable: list[Event], skipped: list[tuple[Event, BookingClosed]]
) -> Receipt:
    """The receipt of a series booking: what booking.series_bookability parts its events into.

    Built from the events' public state, not from what the booking did, so it is the same
    for every address and can be shown again on a later visit.
    """
    return Receipt(email=email, events=tuple(bookable), skipped=tuple(skipped))


# The API's `detail`, in Swedish as the API's other messages are; true for a new booking and
# a repeat alike, as every sentence of the receipt page is.
DETAIL = (
    "Bokningen är mottagen. Allt om den, om du har fått plats eller står i kö och länken för "
    "att avboka, kommer med e-post till %(email)s."
)


def as_json(receipt: Receipt) -> dict[str, Any]:
    """The receipt of a booking of one event as the API answers it (202): `{event_id,
    email, detail}`, the shape `BookingReceipt` in the OpenAPI document."""
    (event,) = receipt.events
    return {
        "event_id": event.id,
        "email": receipt.email,
        "detail": DETAIL % {"email": receipt.email},
    }
