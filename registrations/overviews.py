"""What the public pages show, each in one call: events with the guide examples to read.

Each session links to examples in the development guide, so the pages that show events show
their examples too. These read models put the two together, one function per page, so a
handler makes one call and renders (README, "Architecture"). They only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from events.models import EventStatus, Series
from events.opening import BookingClosed, check_bookable
from guide.catalogue import LinkedExample, examples_for_event, examples_for_events
from registrations import listing
from registrations.booking import find_by_token
from registrations.models import Registration, RegistrationStatus
from registrations.waitlist import waitlist_position


@dataclass(frozen=True)
class EventOverview:
    """One event with its seat counts, its examples in the organiser's order, why it
    cannot be booked at the moment asked (None when it can), and, once it is cancelled,
    the next dates to go to instead (listing.next_dates)."""

    item: listing.EventListing
    examples: list[LinkedExample]
    closed: BookingClosed | None
    next_dates: list[listing.EventListing] = field(default_factory=list)


async def event_overview(
    session: AsyncSession, event_id: int, now: datetime, *, tz_name: str
) -> EventOverview:
    """The event page at `now`. Raises EventNotFound for no event or a draft."""
    item = await listing.public_event(session, event_id)
    closed = None
    try:
        check_bookable(item.event, now, tz_name=tz_name)
    except BookingClosed as exc:
        closed = exc
    instead = []
    if item.event.status == EventStatus.CANCELLED:
        instead = await listing.next_dates(session, item.event, now)
    return EventOverview(item, await examples_for_event(session, event_id), closed, instead)


@dataclass(frozen=True)
class Programme:
    """The home page: upcoming events grouped by series (series first, in the order of their
    next event, then the single events under None), and each event's examples by id."""

    items: list[listing.EventListing]  # soonest first
    groups: list[tuple[Series | None, list[listing.EventListing]]]
    examples: dict[int, list[LinkedExample]]


async def programme(session: AsyncSession, now: datetime) -> Programme:
    """What is on at `now`, for the home page."""
    upcoming = await listing.upcoming(session, now)
    by_series: dict[int | None, list[listing.EventListing]] = {}
    for item in upcoming:
        by_series.setdefault(item.event.series_id, []).append(item)
    groups = sorted(
        ((items[0].event.series, items) for items in by_series.values()),
        key=lambda group: (group[0] is None, group[1][0].event.starts_at),
    )
    examples = await examples_for_events(session, [item.event.id for item in upcoming])
    return Programme(upcoming, groups, examples)


@dataclass(frozen=True)
class BookingOverview:
    """One booking, as its manage page shows it: the registration, its event with counts,
    its place in line (1 = next; None unless waitlisted), the event's examples, whether
    the event can be booked again now (None) or why not, and, once the booking or the
    event is cancelled, the next dates to go to instead."""

    registration: Registration
    item: listing.EventListing
    position: int | None
    examples: list[LinkedExample]
    closed: BookingClosed | None = None
    next_dates: list[listing.EventListing] = field(default_factory=list)


async def booking_overview(
    session: AsyncSession, token: str, now: datetime, *, tz_name: str = "Europe/Stockholm"
) -> BookingOverview:
    """The booking a manage link points to, at `now`. Raises RegistrationNotFound for a
    token that points nowhere, EventNotFound when its event has gone back to being a draft."""
    registration = await find_by_token(session, token)
    item = await listing.public_event(session, registration.event_id)
    closed = None
    try:
        check_bookable(item.event, now, tz_name=tz_name)
    except BookingClosed as exc:
        closed = exc
    instead = []
    if (
        registration.status == RegistrationStatus.CANCELLED
        or item.event.status == EventStatus.CANCELLED
    ):
        instead = await listing.next_dates(session, item.event, now)
    return BookingOverview(
        registration,
        item,
        await waitlist_position(session, registration),
        await examples_for_event(session, registration.event_id),
        closed,
        instead,
    )
