"""The feed memo's builder locks: one per feed while in use, none left behind."""

from __future__ import annotations

import asyncio
import gc

from foundation.feed_cache import FeedMemo


async def test_names_tried_leave_no_lock_behind() -> None:
    """Anyone can ask for /series/<any slug>/calendar.ics: each name must not cost memory."""
    memo = FeedMemo()
    for n in range(10_000):
        async with memo.lock(f"series:no-such-{n}"):
            pass
    gc.collect()
    assert len(memo._locks) == 0


async def test_one_builder_at_a_time_per_feed() -> None:
    memo = FeedMemo()
    inside = 0
    most = 0

    async def build() -> None:
        nonlocal inside, most
        async with memo.lock("all"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(build() for _ in range(20)))
    assert most == 1
