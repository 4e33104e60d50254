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

from foundation.services import Services
from registrations import booking
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
    assert result.created and result.registration.status == RegistrationStatus.CONFIRMED
    assert waited >= HELD * 0.9, "the booking went ahead while another held the lock"
    assert len(ticks) >= 10 and max(ticks) < HELD / 2, "the event loop stalled behind the lock"


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
