"""Reading events for pages, feeds and the API: what is on, and how full it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.errors import EventNotFound, SeriesNotFound
from events.models import Event, EventStatus, Series
from events.opening import BookingClosed
from foundation.ids import parse_id
from registrations.booking import series_bookability
from registrations.waitlist import seat_counts


@dataclass(frozen=True)
class EventListing:
    event: Event
    confirmed: int
    waitlisted: int

    @property
    def seats_left(self) -> int:
        return max(self.event.capacity - self.confirmed, 0)


async def with_counts(session: AsyncSession, events: Sequence[Event]) -> list[EventListing]:
    counts = await seat_counts(session, [e.id for e in events])
    return [EventListing(e, *counts[e.id]) for e in events]


@dataclass(frozen=True)
class CalendarPlace:
    """Where a page of the calendar ends: its last event's start and id, the calendar's
    order. The next page is what comes after it, so an event that ends meanwhile moves
    nothing along and no date is shown twice. In a URL as `2026-12-01T10:00:00Z,12`."""

    starts_at: datetime
    event_id: int

    @classmethod
    def of(cls, event: Event) -> CalendarPlace:
        return cls(event.starts_at.astimezone(UTC), event.id)

    @classmethod
    def parse(cls, text: str) -> CalendarPlace | None:
        """The place `text` names (as str() writes it), or None for anything else."""
        when, comma, number = text.rpartition(",")
        event_id = parse_id(number)
        if not comma or event_id is None or len(when) > 40:
            return None
        try:
            starts_at = datetime.fromisoformat(when)
            return cls(starts_at.astimezone(UTC), event_id) if starts_at.tzinfo else None
        except (ValueError, OverflowError):  # no time; one that is no time in UTC
            return None

    def __str__(self) -> str:
        return f"{self.starts_at.replace(tzinfo=None).isoformat()}Z,{self.event_id}"


def upcoming_ids(now: datetime) -> Select[int]:
    """The ids of published events that have not ended at `now`, as a subquery."""
    return select(Event.id).where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)


async def upcoming(
    session: AsyncSession,
    now: datetime,
    *,
    after: CalendarPlace | None = None,
    limit: int | None = None,
    among: Select[int] | None = None,
) -> list[EventListing]:
    """Published events that have not ended, soonest first: those after `after` in that
    order, at most `limit`, only ids `among` a subquery (None: all)."""
    query = (
        select(Event)
        .options(selectinload(Event.series))
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            or_(
                Event.starts_at > after.starts_at,
                (Event.starts_at == after.starts_at) & (Event.id > after.event_id),
            )
        )
    if among is not None:
        query = query.where(Event.id.in_(among))
    return await with_counts(session, (await session.scalars(query)).all())


@dataclass(frozen=True)
class SeriesAhead:
    """A series with upcoming dates: how many, and when the next begins."""

    series: Series
    dates: int
    next_starts_at: datetime


async def series_ahead(
    session: AsyncSession, now: datetime, *, among: Select[int] | None = None
) -> list[SeriesAhead]:
    """Every series with published dates that have not ended at `now` (only ids `among` a
    subquery; None: all), in the order of their next date. Two queries whatever the number
    of dates."""
    query = (
        select(Event.series_id, func.count(), func.min(Event.starts_at))
        .where(
            Event.series_id.is_not(None),
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > now,
        )
        .group_by(Event.series_id)
    )
    if among is not None:
        query = query.where(Event.id.in_(among))
    found = {row[0]: (row[1], row[2]) for row in (await session.execute(query)).all()}
    if not found:
        return []
    series = (await session.scalars(select(Series).where(Series.id.in_(list(found))))).all()
    ahead = [SeriesAhead(s, *found[s.id]) for s in series]
    return sorted(ahead, key=lambda a: (a.next_starts_at, a.series.id))


async def next_dates(
    session: AsyncSession, event: Event, now: datetime, *, limit: int = 3
) -> list[EventListing]:
    """Where to go instead of `event` (cancelled, or given up): the next published dates of
    its series that have not begun, or, when there are none, the next published events of
    any kind; soonest first, at most `limit`, never a draft nor `event` itself."""
    coming = (
        select(Event)
        .options(selectinload(Event.series))
        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now, Event.id != event.id)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    found: Sequence[Event] = []
    if event.series_id is not None:
        found = (await session.scalars(coming.where(Event.series_id == event.series_id))).all()
    if not found:
        found = (await session.scalars(coming)).all()
    return await with_counts(session, found)


async def public_event(session: AsyncSession, event_id: int) -> EventListing:
    """A published or cancelled event (never a draft), with its counts; EventNotFound if none."""
    event = await session.scalar(
        select(Event)
        .options(selectinload(Event.series))
        .where(Event.id == event_id, Event.status != EventStatus.DRAFT)
    )
    if event is None:
        raise EventNotFound()
    return (await with_counts(session, [event]))[0]


async def get_series(session: AsyncSession, slug: str) -> Series | None:
    return (await session.scalars(select(Series).where(Series.slug == slug))).first()


async def series_events(session: AsyncSession, series_id: int, now: datetime) -> list[EventListing]:
    events = (
        await session.scalars(
            select(Event)
            .where(
                Event.series_id == series_id,
                Event.status != EventStatus.DRAFT,
                Event.ends_at > now,
            )
            .order_by(Event.starts_at, Event.id)
        )
    ).all()
    return await with_counts(session, events)


async def all_events(session: AsyncSession) -> list[EventListing]:
    """Every event, drafts included, for organisers and the command line."""
    events = (
        await session.scalars(
            select(Event).options(selectinload(Event.series)).order_by(Event.starts_at, Event.id)
        )
    ).all()
    return await with_counts(session, events)


@dataclass(frozen=True)
class SeriesOverview:
    """What the series page shows: the series, its events not yet over (drafts left out)
    with their seat counts, and the events booking the whole series would book now."""

    series: Series
    items: list[EventListing]
    bookable: list[Event]
    skipped: list[tuple[Event, BookingClosed]]  # what booking the series would skip, and why


async def series_overview(
    session: AsyncSession, slug: str, now: datetime, *, tz_name: str = "Europe/Stockholm"
) -> SeriesOverview:
    """The series page's content at `now`. Raises SeriesNotFound."""
    series = await get_series(session, slug)
    if series is None:
        raise SeriesNotFound()
    items = await series_events(session, series.id, now)
    bookable, skipped = await series_bookability(session, series.id, now, tz_name=tz_name)
    return SeriesOverview(series=series, items=items, bookable=bookable, skipped=skipped)
