"""Reading events for pages, feeds and the API: what is on, and how full it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.errors import EventNotFound, SeriesNotFound
from events.models import Event, EventStatus, Series
from events.opening import BookingClosed
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


async def upcoming(session: AsyncSession, now: datetime) -> list[EventListing]:
    """Published events that have not ended, soonest first."""
    events = (
        await session.scalars(
            select(Event)
            .options(selectinload(Event.series))
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
            .order_by(Event.starts_at, Event.id)
        )
    ).all()
    return await with_counts(session, events)


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
