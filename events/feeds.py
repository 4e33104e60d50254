"""Public and series feeds: which events they hold, built once per change and cached, and
the one rule for how old every calendar file says it is (`last_modified`).

A feed's cache key is a fingerprint of the events it draws on (how many, their latest
change, and the last moment one left the feed by time alone), so any change to any event,
and any event ageing out, makes a new key: nothing needs invalidating, and every web
process agrees. With Redis the built bytes are shared by all processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from events.calendar import build_feed
from events.entries import public_entry
from events.errors import EventNotFound, SeriesNotFound
from events.models import Event, EventRemoval, EventStatus, Series
from foundation import metrics
from foundation.conditional import CalendarFile
from foundation.feed_cache import FeedCache, FeedMemo
from foundation.outage import is_unreachable
from foundation.settings import FEEDS_KEEP_ENDED_DAYS
from foundation.site_paths import url

log = logging.getLogger("lunchkafe.feeds")

# A cancelled event stays in public feeds this long as STATUS:CANCELLED, so subscribers
# see it struck through, then drops out (ICAL.md, feeds rule 5).
CANCELLED_KEPT = timedelta(days=30)
# Past events stay a while so a calendar's history does not empty itself; RETENTION_DAYS is
# held to at least this (foundation.settings).
PAST_KEPT = timedelta(days=FEEDS_KEEP_ENDED_DAYS)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def last_modified(
    changes: Iterable[datetime | None],
    *,
    last_ended: datetime | None = None,
    last_cancelled: datetime | None = None,
) -> datetime:
    """The one Last-Modified rule for every calendar URL (feeds and .ics downloads): the
    latest of every change to what the file shows or showed (`changes`: rows' updated_at,
    None skipped) and of every moment something left it by time alone, which no row records:
    the latest end among its events that is now PAST_KEPT ago (`last_ended`), the latest
    cancellation now CANCELLED_KEPT ago (`last_cancelled`). Whole seconds, as HTTP dates are.

    So the date moves whenever the bytes can have changed, and a client revalidating by
    date alone (RFC 9110 13.1.3, If-Modified-Since) sees every change. It may also move
    when the bytes did not (a draft edited): the ETag, checked first, still answers 304.
    """
    moments = [EPOCH, *(change for change in changes if change is not None)]
    if last_ended is not None:
        moments.append(last_ended + PAST_KEPT)
    if last_cancelled is not None:
        moments.append(last_cancelled + CANCELLED_KEPT)
    return max(moments).replace(microsecond=0)


def _in_feed(now: datetime, series_id: int | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        or_(
            Event.status == EventStatus.PUBLISHED,
            and_(Event.status == EventStatus.CANCELLED, Event.cancelled_at > now - CANCELLED_KEPT),
        ),
        Event.ends_at > now - PAST_KEPT,
    ]
    if series_id is not None:
        conditions.append(Event.series_id == series_id)
    return conditions


async def _latest_change(session: AsyncSession, series_id: int | None) -> tuple[int, datetime]:
    """How many events the scope has and their latest change, drafts included: an event
    taken back to a draft leaves the feed, and only its own stamp records when."""
    query = select(func.count(), func.max(Event.updated_at))
    removed = select(func.max(EventRemoval.removed_at))
    if series_id is not None:
        query = query.where(Event.series_id == series_id)
        removed = removed.where(EventRemoval.series_id == series_id)
    count, latest = (await session.execute(query)).one()
    # A deleted draft took its stamp with it: its removal keeps the date from going back.
    gone = await session.scalar(removed)
    return int(count), max(latest or EPOCH, gone or EPOCH)


Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def event_file(session: AsyncSession, event_id: int, *, base_url: str) -> CalendarFile:
    """One published or cancelled event as a calendar file (RFC 5545), its public details
    only (never the join link); Last-Modified is the event's last change. Raises
    EventNotFound for no event or a draft."""
    event = await session.scalar(
        select(Event).where(Event.id == event_id, Event.status != EventStatus.DRAFT)
    )
    if event is None:
        raise EventNotFound()
    entry = public_entry(event, event_url=url(base_url, "event", event_id=event.id))
    return CalendarFile.of(build_feed([entry], name=event.title), last_modified([event.updated_at]))


async def public_feed(
    transaction: Transaction,
    cache: FeedCache,
    memo: FeedMemo,
    *,
    base_url: str,
    site_name: str,
    now: datetime,
    series_slug: str | None = None,
) -> CalendarFile:
    """All published events, or one series, as a calendar file. Raises SeriesNotFound.

    While the database is unreachable, the copy last built for the feed is served (if this
    process or the shared cache has one), else the copy this process last served, rather
    than an error: a calendar keeps its events.
    """
    scope = f"series:{series_slug}" if series_slug else "all"
    try:
        return await _current_feed(
            transaction,
            cache,
            memo,
            base_url=base_url,
            site_name=site_name,
            now=now,
            series_slug=series_slug,
            scope=scope,
        )
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        last = await cache.get(_last_built(scope))
        if last is None and (seen := memo.last(scope)) is not None:
            # The shared "last built" copy lapses a day after a build; this process may
            # still hold the copy it last served, read from the shared cache.
            last = await cache.get(seen)
        if last is None:
            raise
        metrics.feed_answered("stale")
        log.warning("database unreachable (%s): a feed's last copy served", type(exc).__name__)
        return last


def _last_built(scope: str) -> str:
    return f"feed-last:{scope}"


async def _current_feed(
    transaction: Transaction,
    cache: FeedCache,
    memo: FeedMemo,
    *,
    base_url: str,
    site_name: str,
    now: datetime,
    series_slug: str | None,
    scope: str,
) -> CalendarFile:
    remembered = memo.key(scope)
    if remembered is not None and (hit := await cache.get(remembered)) is not None:
        metrics.feed_answered("hit")
        return hit
    # One build at a time per feed: after a change, concurrent pollers wait for it
    # instead of each building the same thousands of events.
    async with memo.lock(scope):
        remembered = memo.key(scope)
        if remembered is not None and (hit := await cache.get(remembered)) is not None:
            metrics.feed_answered("hit")
            return hit
        async with transaction() as session:
            series = None
            if series_slug:
                series = (
                    await session.scalars(select(Series).where(Series.slug == series_slug))
                ).first()
                if series is None:
                    raise SeriesNotFound()
            series_id = series.id if series is not None else None
            # What the feed holds also moves with time: the last moment an event aged out
            # is part of the key, so the feed drops it at once, with a later date.
            count, latest = await _latest_change(session, series_id)
            if series is not None:  # its title is the feed's name
                latest = max(latest, series.updated_at)
            aged = await _aged_out(session, now, series_id)
            modified = last_modified([latest], **aged)
            stamps = ":".join(s.isoformat() if s else "-" for s in (latest, *aged.values()))
            key = f"feed:{series_id or 'all'}:{count}:{stamps}"
            memo.remember(scope, key)
            cached = await cache.get(key)
            if cached is not None:
                metrics.feed_answered("hit")
                return cached
            events = (
                await session.scalars(
                    select(Event)
                    .where(*_in_feed(now, series_id))
                    .order_by(Event.starts_at, Event.id)
                )
            ).all()
        entries = [public_entry(e, event_url=url(base_url, "event", event_id=e.id)) for e in events]
        name = f"{site_name}: {series.title}" if series is not None else site_name
        body = await asyncio.to_thread(build_feed, entries, name=name)
        file = CalendarFile.of(body, modified)
        await cache.put(key, file)
        await cache.put(_last_built(scope), file)  # what an outage of the database serves
        metrics.feed_answered("miss")
        return file


async def _aged_out(
    session: AsyncSession, now: datetime, series_id: int | None
) -> dict[str, datetime | None]:
    """`last_modified`'s time-alone stamps for a public feed: the latest end and the latest
    cancellation among its events that have passed out of the feed's window by `now`."""
    cancelled = select(func.max(Event.cancelled_at)).where(
        Event.status == EventStatus.CANCELLED, Event.cancelled_at <= now - CANCELLED_KEPT
    )
    past = select(func.max(Event.ends_at)).where(
        Event.status != EventStatus.DRAFT, Event.ends_at <= now - PAST_KEPT
    )
    if series_id is not None:
        cancelled = cancelled.where(Event.series_id == series_id)
        past = past.where(Event.series_id == series_id)
    return {
        "last_ended": await session.scalar(past),
        "last_cancelled": await session.scalar(cancelled),
    }
