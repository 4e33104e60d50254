"""Public pages' data, kept for a moment per process, and a booker's way past it.

When a newsletter goes out, hundreds open the same few pages within a second; each page's
data is read once per second per process and shared by everyone who asks meanwhile. Seats
shown are therefore at most `PageMemo.ttl` (one second) old. A commit in this process forgets
everything at once (foundation.services), and someone who has just booked or cancelled
carries a short-lived cookie (FRESH_COOKIE) that makes every process read their pages anew,
so their own seat is always counted on the page they go to next.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response

T = TypeVar("T")

# Set on the answer to a booking or a cancellation. It holds no data of anyone's (the value
# is "1"), and anyone may send it: it only costs them the read everybody made before the memo.
FRESH_COOKIE = "lk_fresh"
# Longer than PageMemo.ttl, so every entry read before the booker's commit has expired in
# every process by the time the cookie does; whole seconds, as Max-Age counts (RFC 6265 §5.2.2).
FRESH_SECONDS = 2


class PageMemo:
    """Per process: page data by what it depends on (`"event:12"`, `"guide:?foo"`), for at
    most `ttl` seconds after its read began, at most `size` entries (least recently used
    dropped first: a key may come from a URL), one read per key at a time.

    `clock` gives seconds (time.monotonic by default; tests pass one they move by hand).
    """

    ttl = 1.0

    def __init__(self, clock: Callable[[], float] = time.monotonic, size: int = 256) -> None:
        self._clock = clock
        self._size = size
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        # Bumped by forget(): a read begun before a commit is not kept after it.
        self._generation = 0
        # Held only while someone reads or waits, as foundation.feed_cache.FeedMemo does.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def get(self, key: str, read: Callable[[], Awaitable[T]], *, fresh: bool = False) -> T:
        """What `read()` returned for `key` less than `ttl` ago, or its answer now (kept for
        the next asker). `fresh` always reads, and keeps that newer answer. Whatever `read`
        raises passes through and nothing is kept."""
        if not fresh:
            found = self._found(key)
            if found is not None:
                return cast(T, found[1])
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = asyncio.Lock()
            async with lock:
                found = self._found(key)  # read by whoever held the lock before us
                if found is not None:
                    return cast(T, found[1])
                return await self._read(key, read)
        return await self._read(key, read)

    def forget(self) -> None:
        """Drop every entry, and any read under way, after a change in this process."""
        self._items.clear()
        self._generation += 1

    def _found(self, key: str) -> tuple[float, Any] | None:
        found = self._items.get(key)
        if found is None or found[0] <= self._clock():
            return None
        self._items.move_to_end(key)
        return found

    async def _read(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        # The read's snapshot is taken after this moment, so it is never older than the
        # expiry says.
        began, generation = self._clock(), self._generation
        value = await read()
        if generation == self._generation:
            self._items[key] = (began + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def wants_fresh(request: Request) -> bool:
    """Whether the visitor has just booked or cancelled, so their pages are read anew."""
    return FRESH_COOKIE in request.cookies


def mark_fresh(response: Response, *, secure: bool) -> None:
    """Make the visitor's next pages, in every process, show what they have just done."""
    response.set_cookie(
        FRESH_COOKIE, "1", max_age=FRESH_SECONDS, httponly=True, samesite="lax", secure=secure
    )
