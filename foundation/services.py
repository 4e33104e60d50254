"""What a running process holds: settings, engine, session factory, templates, job nudges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from foundation.database import create_engine, create_sessionmaker, unit_of_work
from foundation.feed_cache import FeedCache, FeedMemo, MemoryFeedCache, RedisFeedCache
from foundation.ratelimit import AttemptLimiter
from foundation.settings import Settings

Nudge = Callable[[], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    feed_cache: FeedCache
    booking_limiter: AttemptLimiter
    sign_in_limiter: AttemptLimiter
    reset_limiter: AttemptLimiter
    send_limiter: AttemptLimiter
    feed_memo: FeedMemo = field(default_factory=FeedMemo)
    # Called after a commit that wrote outbox rows; set by the job runner in use.
    after_commit: list[Nudge] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = create_engine(settings)
        cache: FeedCache = (
            RedisFeedCache(settings.redis_url) if settings.redis_url else MemoryFeedCache()
        )
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            feed_cache=cache,
            booking_limiter=AttemptLimiter.from_settings(settings),
            sign_in_limiter=AttemptLimiter.for_sign_in(settings),
            reset_limiter=AttemptLimiter.for_password_resets(settings),
            send_limiter=AttemptLimiter.for_sends(settings),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work; if it wrote outbox rows, delivery is nudged after the commit."""
        async with unit_of_work(self.sessionmaker) as session:
            yield session
        if session.info.pop("events_changed", False):
            self.feed_memo.forget()
        if session.info.pop("outbox_written", False):
            for nudge in self.after_commit:
                await nudge()

    async def close(self) -> None:
        await self.booking_limiter.close()
        await self.sign_in_limiter.close()
        await self.reset_limiter.close()
        await self.send_limiter.close()
        if isinstance(self.feed_cache, RedisFeedCache):
            await self.feed_cache.close()
        await self.engine.dispose()


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
