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
from guide.catalogue import LinkedExample, challenges, examples_for_event, examples_for_events
from guide.event_topics import challenges_for_events
from guide.methods import LinkedMethod, methods_for_event
from guide.models import Challenge
from registrations import listing
from registrations.booking import find_by_token
from registrations.models import Registration, RegistrationStatus
from registrations.waitlist import waitlist_position


@dataclass(frozen=True)
class EventOverview:
    """One event with its seat counts, its examples in the organiser's order, why it
    cannot be booked at the moment asked (None when it can), and, once it is cancelled,
    the next dates to go to instead (listing.next_dates); the tips and processes it works
    with, each with why."""

    item: listing.EventListing
    examples: list[LinkedExample]
    closed: BookingClosed | None
    next_dates: list[listing.EventListing] = field(default_factory=list)
    methods: list[LinkedMethod] = field(default_factory=list)


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
    return EventOverview(
        item,
        await examples_for_event(session, event_id),
        closed,
        instead,
        await methods_for_event(session, event_id),
    )


@dataclass(frozen=True)
class Programme:
    """The home page: upcoming events grouped by series (series first, in the order of their
    next event, then the single events under None), each event's examples and challenges by
    id, the challenges any upcoming event has (to filter by) and the one chosen (None: all)."""

    items: list[listing.EventListing]  # soonest first
    groups: list[tuple[Series | None, list[listing.EventListing]]]
    examples: dict[int, list[LinkedExample]]
    challenges: dict[int, list[Challenge]] = field(default_factory=dict)
    choices: list[Challenge] = field(default_factory=list)
    chosen: str | None = None


async def programme(
    session: AsyncSession, now: datetime, challenge_slug: str | None = None
) -> Programme:
    """What is on at `now`, for the home page; with `challenge_slug`, only the events filed
    under that challenge (through the guide material they link, guide.event_topics). A slug
    no upcoming event has shows everything, as the guide's filter does."""
    upcoming = await listing.upcoming(session, now)
    filed = await challenges_for_events(session, [item.event.id for item in upcoming])
    present = {c.id for found in filed.values() for c in found}
    choices = [c for c in await challenges(session) if c.id in present]
    chosen = challenge_slug if challenge_slug in {c.slug for c in choices} else None
    if chosen is not None:
        upcoming = [
            item for item in upcoming if any(c.slug == chosen for c in filed[item.event.id])
        ]
    by_series: dict[int | None, list[listing.EventListing]] = {}
    for item in upcoming:
        by_series.setdefault(item.event.series_id, []).append(item)
    groups = sorted(
        ((items[0].event.series, items) for items in by_series.values()),
        key=lambda group: (group[0] is None, group[1][0].event.starts_at),
    )
    examples = await examples_for_events(session, [item.event.id for item in upcoming])
    return Programme(upcoming, groups, examples, filed, choices, chosen)


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
