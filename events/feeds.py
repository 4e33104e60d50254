"""Public and series feeds: which events they hold, built once per change and cached.

A feed's cache key is a fingerprint of the events it draws on (how many, and their latest
change), so any change to any event makes a new key: nothing needs invalidating, and every
web process agrees. With Redis the built bytes are shared by all processes.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from events.calendar import build_feed
from events.entries import public_entry
from events.models import Event, EventStatus, Series
from lunchkafe.conditional import CalendarFile

log = logging.getLogger("lunchkafe.feeds")

# A cancelled event stays in public feeds this long as STATUS:CANCELLED, so subscribers
# see it struck through, then drops out (ICAL.md, feeds rule 5).
CANCELLED_KEPT = timedelta(days=30)
# Past events stay a while so a calendar's history does not empty itself.
PAST_KEPT = timedelta(days=90)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class FeedCache(Protocol):
    async def get(self, key: str) -> CalendarFile | None: ...
    async def put(self, key: str, file: CalendarFile) -> None: ...


class MemoryFeedCache:
    """For a single embedded process; a few feeds, least recently used dropped first."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[str, CalendarFile] = OrderedDict()
        self._size = size

    async def get(self, key: str) -> CalendarFile | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    async def put(self, key: str, file: CalendarFile) -> None:
        self._items[key] = file
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class RedisFeedCache:
    """Shared by every web process; an unreachable Redis only costs a rebuild."""

    def __init__(self, url: str, ttl: timedelta = timedelta(days=1)) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._ttl = int(ttl.total_seconds())
        self._local = MemoryFeedCache(size=8)

    async def get(self, key: str) -> CalendarFile | None:
        local = await self._local.get(key)
        if local is not None:
            return local
        try:
            raw = await self._redis.get(f"lunchkafe:{key}")
        except Exception as exc:
            log.warning("feed cache unreachable (%s); building the feed", exc)
            return None
        if raw is None:
            return None
        meta_len = int.from_bytes(raw[:4], "big")
        meta = json.loads(raw[4 : 4 + meta_len])
        file = CalendarFile(
            body=raw[4 + meta_len :],
            etag=meta["etag"],
            last_modified=datetime.fromisoformat(meta["last_modified"]),
        )
        await self._local.put(key, file)
        return file

    async def put(self, key: str, file: CalendarFile) -> None:
        await self._local.put(key, file)
        meta = json.dumps(
            {"etag": file.etag, "last_modified": file.last_modified.isoformat()}
        ).encode()
        try:
            await self._redis.set(
                f"lunchkafe:{key}", len(meta).to_bytes(4, "big") + meta + file.body, ex=self._ttl
            )
        except Exception as exc:
            log.warning("feed cache unreachable (%s); not shared this time", exc)

    async def close(self) -> None:
        await self._redis.aclose()


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


async def _fingerprint(session: AsyncSession, series_id: int | None) -> str:
    query = select(func.count(), func.max(Event.updated_at)).where(
        Event.status != EventStatus.DRAFT
    )
    if series_id is not None:
        query = query.where(Event.series_id == series_id)
    count, latest = (await session.execute(query)).one()
    return f"{count}:{latest.isoformat() if latest else '-'}"


async def public_feed(
    session: AsyncSession,
    cache: FeedCache,
    *,
    base_url: str,
    site_name: str,
    now: datetime,
    series: Series | None = None,
) -> CalendarFile:
    """All published events, or one series, as a calendar file (from cache when unchanged)."""
    series_id = series.id if series is not None else None
    # The day is part of the key because what the feed holds also moves with time.
    day: date = now.date()
    key = f"feed:{series_id or 'all'}:{await _fingerprint(session, series_id)}:{day.isoformat()}"
    cached = await cache.get(key)
    if cached is not None:
        return cached
    events = (
        await session.scalars(
            select(Event).where(*_in_feed(now, series_id)).order_by(Event.starts_at, Event.id)
        )
    ).all()
    entries = [public_entry(e, event_url=f"{base_url}/events/{e.id}") for e in events]
    name = f"{site_name}: {series.title}" if series is not None else site_name
    body = build_feed(entries, name=name)
    last_modified = max((e.updated_at for e in events), default=EPOCH)
    file = CalendarFile.of(body, last_modified.replace(microsecond=0))
    await cache.put(key, file)
    return file
