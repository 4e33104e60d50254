"""Caches for built calendar files: in memory per process, or shared through Redis.

Keyed by whatever the caller fingerprints (events/feeds.py keys feeds by the events they
draw on), so nothing here knows what a feed holds and nothing needs invalidating.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Protocol

from foundation.conditional import CalendarFile

log = logging.getLogger("lunchkafe.feeds")


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


class FeedMemo:
    """Per process: the cache key each feed had a moment ago, and one builder per feed.

    A calendar client revalidating then costs no database work at all. The process that
    changes an event forgets at once; other processes notice within `ttl`.
    """

    ttl = 1.0

    def __init__(self) -> None:
        self._keys: dict[str, tuple[float, str]] = {}
        # The key each feed last had here, however long ago: during a database outage the
        # copy under it (in this process's cache) is what the feed can still serve.
        self._last: dict[str, str] = {}
        # Held only while someone builds or waits: a scope anyone can name (a series slug
        # in a URL) must not leave a lock behind for each name tried.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def key(self, scope: str) -> str | None:
        found = self._keys.get(scope)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def remember(self, scope: str, key: str) -> None:
        self._keys[scope] = (time.monotonic() + self.ttl, key)
        self._last[scope] = key

    def last(self, scope: str) -> str | None:
        """The key `scope` last had in this process, expired or forgotten or not."""
        return self._last.get(scope)

    def lock(self, scope: str) -> asyncio.Lock:
        """The one lock for `scope` while anyone holds it; the caller keeps the reference."""
        found = self._locks.get(scope)
        if found is None:
            found = self._locks[scope] = asyncio.Lock()
        return found

    def forget(self) -> None:
        self._keys.clear()
