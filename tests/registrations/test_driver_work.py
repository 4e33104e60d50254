"""On SQLite the hot paths run on the event loop only while nobody else holds the write lock.

registrations.driver_work runs a booking's transaction right on the loop (issue 11: the
hand-off to aiosqlite's thread cost more than the transaction). When another process holds
SQLite's write lock (the command line, a worker), waiting for it there would stall every
request the process serves; the booking must instead wait in aiosqlite's thread, and
complete as soon as the lock is free.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from foundation.database import create_engine
from foundation.services import Services
from registrations import booking
from registrations.driver_work import on_driver
from registrations.models import RegistrationStatus
from tests.factories import make_event, person

HELD = 0.6  # seconds the other process keeps the write lock


@pytest.fixture
def sqlite_services(services: Services) -> Services:
    if not services.settings.is_sqlite:
        pytest.skip("SQLite's write lock; PostgreSQL books with a conditional update")
    return services


def _path(services: Services) -> str:
    return services.settings.database_url.split(":///", 1)[1]


async def test_a_booking_waits_for_another_writer_without_stalling_the_loop(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    event = await make_event(services, capacity=5)
    other = sqlite3.connect(_path(services), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's transaction, holding the lock
    released = asyncio.get_running_loop().call_later(HELD, other.execute, "COMMIT")
    try:
        started = time.monotonic()
        booked = asyncio.create_task(
            booking.book_now(services, event_id=event.id, attendee=person(1))
        )
        # The loop keeps serving: ticks every 20 ms while the booking waits for the lock.
        ticks: list[float] = []
        while not booked.done():
            before = time.monotonic()
            await asyncio.sleep(0.02)
            ticks.append(time.monotonic() - before)
        result = await booked
    finally:
        released.cancel()
        other.close()
    waited = time.monotonic() - started
    assert result.created
    assert result.registration.status == RegistrationStatus.CONFIRMED
    assert waited >= HELD * 0.9, "the booking went ahead while another held the lock"
    assert len(ticks) >= 10, "the event loop stalled behind the lock"
    assert max(ticks) < HELD / 2, "the event loop stalled behind the lock"


async def test_a_booking_runs_on_the_loop_and_leaves_the_lock_wait_as_it_was(
    sqlite_services: Services,
) -> None:
    """After a booking on the loop the writer connection waits for the lock again as the
    ORM expects (foundation.database.BUSY_TIMEOUT_MS), not zero."""
    services = sqlite_services
    event = await make_event(services, capacity=5)
    result = await booking.book_now(services, event_id=event.id, attendee=person(2))
    assert result.created
    async with services.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        (timeout,) = await (await driver.execute("PRAGMA busy_timeout")).fetchone()
    from foundation.database import BUSY_TIMEOUT_MS

    assert timeout == BUSY_TIMEOUT_MS


async def test_turns_at_the_pool_go_in_the_order_requests_came(services: Services) -> None:
    """Under a rush, the hot paths' turns at the pool go first come, first served: one that
    arrives while others wait never takes a connection from under the first in line (the
    pool's own queue lets it, and the one passed over goes to the back: the p99, issue 11).
    Work on a pool of two connections, arrivals continuing while earlier ones are served."""
    # As the hot engine (foundation.database.create_hot_engine): no ping at checkout.
    engine = create_engine(services.settings, pool_size=2, max_overflow=0, pool_pre_ping=False)
    begun: list[int] = []

    def on_sqlite(_conn: sqlite3.Connection, _dialect: Dialect, n: int) -> None:
        begun.append(n)

    async def on_postgres(_fairy: PoolProxiedConnection, _dialect: Dialect, n: int) -> None:
        begun.append(n)
        await asyncio.sleep(0.002)  # a statement's round trip, holding the connection

    async def one(n: int) -> None:
        await on_driver(
            engine,
            lambda conn, dialect: on_sqlite(conn, dialect, n),
            lambda fairy, dialect: on_postgres(fairy, dialect, n),
        )

    try:
        # Both connections made first: making one takes a while, during which later turns
        # rightly go ahead on the other.
        warm = [await engine.raw_connection() for _ in range(2)]
        for fairy in warm:
            await greenlet_spawn(fairy.close)
        tasks = []
        for n in range(150):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0)  # the next arrives while earlier ones are served
        await asyncio.gather(*tasks)
    finally:
        await engine.dispose()
    assert begun == sorted(begun)
