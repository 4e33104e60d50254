"""What the public pages show, each in one call: events with the guide examples to read,
and a guide process with the sessions to book at each step.

Each session links to examples in the development guide, so the pages that show events show
their examples too. These read models put the two together, one function per page, so a
handler makes one call and renders (README, "Architecture"). They only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from events.models import EventStatus
from events.opening import BookingClosed, check_bookable
from guide.catalogue import LinkedExample, examples_for_event, examples_for_events
from guide.event_topics import challenges_among, challenges_for_events, filed_under
from guide.methods import LinkedMethod, ProcessPage, methods_for_event, process_page
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


# Events on one page of the home page's calendar; the rest are a link away, so the page
# costs the same with a thousand upcoming events as with thirty.
CALENDAR_PAGE = 20


@dataclass(frozen=True)
class Programme:
    """The home page: one page of upcoming events (soonest first, after `after`; None: from
    the soonest), where the next page starts (None: this is the last), each event's examples
    and challenges by id, every series with upcoming dates, the challenges any upcoming event
    has (to filter by) and the one chosen (None: all)."""

    items: list[listing.EventListing]
    series: list[listing.SeriesAhead]
    examples: dict[int, list[LinkedExample]]
    challenges: dict[int, list[Challenge]] = field(default_factory=dict)
    choices: list[Challenge] = field(default_factory=list)
    chosen: str | None = None
    after: listing.CalendarPlace | None = None
    following: listing.CalendarPlace | None = None


async def programme(
    session: AsyncSession,
    now: datetime,
    challenge_slug: str | None = None,
    *,
    after: listing.CalendarPlace | None = None,
    size: int | None = CALENDAR_PAGE,
) -> Programme:
    """What is on at `now`, for the home page: `size` events after `after` (size None: all);
    with `challenge_slug`, only the events filed under that challenge (through the guide
    material they link, guide.event_topics). A slug no upcoming event has shows everything,
    as the guide's filter does. A bounded number of queries whatever the number of events."""
    choices = await challenges_among(session, listing.upcoming_ids(now))
    chosen = next((c for c in choices if c.slug == challenge_slug), None)
    among = filed_under(chosen.id) if chosen is not None else None
    upcoming = await listing.upcoming(
        session, now, after=after, limit=None if size is None else size + 1, among=among
    )
    following = None
    if size is not None and len(upcoming) > size:
        upcoming = upcoming[:size]
        following = listing.CalendarPlace.of(upcoming[-1].event)
    ids = [item.event.id for item in upcoming]
    return Programme(
        upcoming,
        # The series are listed above the calendar's first page only.
        await listing.series_ahead(session, now, among=among) if after is None else [],
        await examples_for_events(session, ids),
        await challenges_for_events(session, ids),
        choices,
        chosen.slug if chosen is not None else None,
        after,
        following,
    )


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


@dataclass(frozen=True)
class ProcessOverview:
    """A process page (guide.methods.process_page) with, by step id, the step's upcoming
    sessions and their seat counts, each to be booked from the step unless `closed` says
    why not (by event id, as event_overview decides it: under way, registration closed or
    not yet open)."""

    page: ProcessPage
    step_sessions: dict[int, list[listing.EventListing]]
    closed: dict[int, BookingClosed] = field(default_factory=dict)


async def process_overview(
    session: AsyncSession, slug: str, now: datetime, *, tz_name: str = "Europe/Stockholm"
) -> ProcessOverview:
    """The process page at `now`. Raises ProcessNotFound."""
    page = await process_page(session, slug, now)
    shown = {e.id: e for found in page.step_events.values() for e in found}
    counted = {
        item.event.id: item for item in await listing.with_counts(session, [*shown.values()])
    }
    closed: dict[int, BookingClosed] = {}
    for event in shown.values():
        try:
            check_bookable(event, now, tz_name=tz_name)
        except BookingClosed as exc:
            closed[event.id] = exc
    return ProcessOverview(
        page,
        {step: [counted[e.id] for e in found] for step, found in page.step_events.items()},
        closed,
    )
