"""During a database outage a public feed serves the copy this process last served, even
when the shared cache's "last built" copy has expired (Redis keeps it a day after a build,
and a process that only read the feed from the shared cache never built it)."""

from __future__ import annotations

from pathlib import Path

from events.feeds import public_feed
from foundation.feed_cache import FeedMemo, MemoryFeedCache
from foundation.services import Services
from foundation.timestamps import utcnow
from tests.conftest import make_settings
from tests.factories import make_event

NOWHERE = "postgresql+asyncpg://postgres@127.0.0.1:1/lunchkafe"  # nothing listens there


async def test_a_feed_read_from_the_shared_cache_is_served_in_an_outage(
    services: Services, tmp_path: Path
) -> None:
    await make_event(services, title="Kafé om vägar")
    shared = MemoryFeedCache()  # the shared cache (Redis in production)
    built_by_a = FeedMemo()
    feed = await public_feed(
        services.reading, shared, built_by_a, base_url="http://t", site_name="L", now=utcnow()
    )
    key = built_by_a.key("all")
    assert key is not None
    # Process B read the feed from the shared cache into its own; a day later the shared
    # cache has let both copies go, so B holds the only one.
    own = MemoryFeedCache()
    await own.put(key, feed)
    memo = FeedMemo()
    read = await public_feed(
        services.reading, own, memo, base_url="http://t", site_name="L", now=utcnow()
    )
    assert read == feed
    memo.forget()  # as a second later

    down = Services.build(make_settings(NOWHERE, tmp_path))
    try:
        served = await public_feed(
            down.reading, own, memo, base_url="http://t", site_name="L", now=utcnow()
        )
    finally:
        await down.close()
    assert served.body == feed.body
    assert b"Kaf\xc3\xa9 om v\xc3\xa4gar" in served.body
