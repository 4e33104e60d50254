"""What a running process holds: settings, engine, session factory, templates, job nudges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from foundation.database import (
    create_engine,
    create_hot_engine,
    create_reader_engine,
    create_sessionmaker,
    reading_sessionmaker,
    unit_of_work,
)
from foundation.feed_cache import FeedCache, FeedMemo, MemoryFeedCache, RedisFeedCache
from foundation.page_memo import PageMemo
from foundation.ratelimit import AttemptLimiter
from foundation.settings import Settings

Nudge = Callable[[], Awaitable[None]]
T = TypeVar("T")


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
    proposal_limiter: AttemptLimiter
    data_link_limiter: AttemptLimiter
    feed_memo: FeedMemo = field(default_factory=FeedMemo)
    # Pages read here (reading()); on SQLite their own engine of reader connections.
    readers: AsyncEngine | None = None
    reader_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    page_memo: PageMemo = field(default_factory=PageMemo)
    # Called after a commit that wrote outbox rows; set by the job runner in use.
    after_commit: list[Nudge] = field(default_factory=list)
    # The booking hot path's engine (foundation.database.create_hot_engine); None: `engine`.
    hot_engine: AsyncEngine | None = None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = create_engine(settings)
        readers = create_reader_engine(settings)
        cache: FeedCache = (
            RedisFeedCache(settings.redis_url) if settings.redis_url else MemoryFeedCache()
        )
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            hot_engine=create_hot_engine(settings, engine),
            readers=readers,
            reader_sessionmaker=reading_sessionmaker(engine, readers),
            feed_cache=cache,
            booking_limiter=AttemptLimiter.from_settings(settings),
            sign_in_limiter=AttemptLimiter.for_sign_in(settings),
            reset_limiter=AttemptLimiter.for_password_resets(settings),
            send_limiter=AttemptLimiter.for_sends(settings),
            proposal_limiter=AttemptLimiter.for_proposals(settings),
            data_link_limiter=AttemptLimiter.for_data_links(settings),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work; if it wrote outbox rows, delivery is nudged after the commit."""
        async with unit_of_work(self.sessionmaker) as session:
            yield session
        await self.committed(
            outbox_written=session.info.pop("outbox_written", False),
            events_changed=session.info.pop("events_changed", False),
        )

    async def committed(self, *, outbox_written: bool, events_changed: bool = False) -> None:
        """What follows a commit: `transaction` calls it, and so does whatever commits on
        the driver (registrations.seat_claims). Delivery is nudged when outbox rows were
        written."""
        # Whatever it changed shows at once on this process's pages.
        self.page_memo.forget()
        if events_changed:
            self.feed_memo.forget()
        if outbox_written:
            for nudge in self.after_commit:
                await nudge()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads, for pages: on SQLite a reader connection beside
        the writer (never queued behind a booking), on PostgreSQL READ ONLY. A write in it
        fails (sqlite3.OperationalError, or asyncpg's ReadOnlySQLTransactionError)."""
        async with unit_of_work(self.reader_sessionmaker or self.sessionmaker) as session:
            yield session

    async def page(
        self, key: str, read: Callable[[AsyncSession], Awaitable[T]], *, fresh: bool = False
    ) -> T:
        """A public page's data: `read(session)` in one reading() transaction, shared by this
        process's requests for `key` for up to a second (foundation.page_memo); `fresh` reads
        anew, for someone who has just booked or cancelled."""

        async def read_now() -> T:
            async with self.reading() as session:
                return await read(session)

        return await self.page_memo.get(key, read_now, fresh=fresh)

    async def close(self) -> None:
        await self.booking_limiter.close()
        await self.sign_in_limiter.close()
        await self.reset_limiter.close()
        await self.send_limiter.close()
        await self.proposal_limiter.close()
        await self.data_link_limiter.close()
        if isinstance(self.feed_cache, RedisFeedCache):
            await self.feed_cache.close()
        if self.hot_engine is not None and self.hot_engine is not self.engine:
            await self.hot_engine.dispose()
        await self.engine.dispose()
        if self.readers is not None:
            await self.readers.dispose()


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
