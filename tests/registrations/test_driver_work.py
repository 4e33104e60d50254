"""How the hot paths reach the database (registrations.driver_work, issue 11).

On SQLite a booking's transaction runs right on the event loop (the hand-off to aiosqlite's
thread cost more than the transaction), shared with the bookings that arrived with it (group
commit). When another process holds SQLite's write lock (the command line, a worker),
waiting for it there would stall every request the process serves; the booking must
instead wait in aiosqlite's thread, and complete as soon as the lock is free. On
PostgreSQL, turns at the pool go first come, first served.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sqlite3
import time
import weakref
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from events.errors import EventNotFound
from events.opening import BookingClosed
from foundation.database import create_engine
from foundation.outage import is_unreachable
from foundation.services import Services
from foundation.timestamps import utcnow
from registrations import booking, driver_work, waitlist
from registrations.attendee import Attendee
from registrations.driver_work import SqliteWriter, on_driver
from registrations.models import AttendeeFeed, Registration, RegistrationStatus
from registrations.seat_claims import Claimed, claim_seat
from tests.conftest import SECRET
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


# -- group commit (driver_work.SqliteWriter) ---------------------------------------------


async def test_a_rush_commits_together_and_each_booking_keeps_its_own_answer(
    sqlite_services: Services,
) -> None:
    """Bookings arriving together share a transaction, yet each gets the answer it would
    have had alone: seats then the line in arrival order, a refusal for a draft or a
    closed event with nothing of it written, the same address twice booked once."""
    services = sqlite_services
    small = await make_event(services, capacity=3)
    draft = await make_event(services, publish=False)
    closed = await make_event(services, registration_closes_at=utcnow() - timedelta(hours=1))
    writer = await _writer_connection(services)
    begun: list[str] = []
    writer.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    try:
        asked = [(small.id, n) for n in range(8)] + [(draft.id, 100), (closed.id, 101)]
        asked.insert(4, (small.id, 2))  # person 2 again, in the same rush
        results = await asyncio.gather(
            *(booking.book_now(services, event_id=e, attendee=person(n)) for e, n in asked),
            return_exceptions=True,
        )
    finally:
        writer.set_trace_callback(None)
    assert len(begun) < len(asked) / 2, begun  # committed in groups, not one by one
    by_person = dict(zip([n for _, n in asked], results, strict=False))
    assert isinstance(results[-2], EventNotFound)
    assert isinstance(results[-1], BookingClosed)
    seats = [r for r in results[:9] if isinstance(r, booking.BookingResult) and r.created]
    assert [r.registration.email for r in seats] == [person(n).email for n in range(8)]
    assert [r.waitlist_position for r in seats] == [None, None, None, 1, 2, 3, 4, 5]
    again = results[4]
    assert isinstance(again, booking.BookingResult)
    assert not again.created  # the repeat: the resend rule, no second registration
    assert by_person[100] is results[-2]
    async with services.transaction() as session:
        held = await session.scalars(select(Registration.event_id))
        assert sorted(held) == [small.id] * 8
        assert await waitlist.check_counters(session) == []


async def test_work_that_fails_undoes_only_its_own_writes(sqlite_services: Services) -> None:
    services = sqlite_services
    engine = services.hot_engine or services.engine

    def feed(address: str, fail: bool = False) -> Callable[[sqlite3.Connection, Dialect], str]:
        def work(conn: sqlite3.Connection, _dialect: Dialect) -> str:
            conn.execute(
                "INSERT INTO attendee_feeds (email_normalised, token_nonce, token_hash,"
                " created_at) VALUES (?, ?, ?, '2027-01-01 00:00:00.000000')",
                (address, address, address),
            )
            if fail:
                raise ValueError(address)
            return address

        return work

    async def never(_fairy: PoolProxiedConnection, _dialect: Dialect) -> str:
        raise AssertionError("SQLite only")

    outcomes = await asyncio.gather(
        *(on_driver(engine, feed(f"{n}@example.se", fail=n == 1), never) for n in range(3)),
        return_exceptions=True,
    )
    assert outcomes[0] == "0@example.se"
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == "2@example.se"
    async with services.transaction() as session:
        stored = await session.scalars(select(AttendeeFeed.email_normalised))
        assert sorted(stored) == ["0@example.se", "2@example.se"]


async def test_a_booking_whose_caller_went_away_before_its_turn_is_not_made(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    event = await make_event(services, capacity=5)
    first = asyncio.create_task(booking.book_now(services, event_id=event.id, attendee=person(1)))
    gone = asyncio.create_task(booking.book_now(services, event_id=event.id, attendee=person(2)))
    await asyncio.sleep(0)  # both have asked; the writer has not begun
    gone.cancel()
    assert (await first).created
    with pytest.raises(asyncio.CancelledError):
        await gone
    async with services.transaction() as session:
        emails = await session.scalars(select(Registration.email))
        assert list(emails) == [person(1).email]


async def _writer_connection(services: Services) -> sqlite3.Connection:
    """The sqlite3 connection under the pool's one writer connection."""
    engine = services.hot_engine or services.engine
    fairy = await engine.raw_connection()
    try:
        driver: Any = fairy.driver_connection
        conn: sqlite3.Connection = driver._conn
        return conn
    finally:
        await greenlet_spawn(fairy.close)


# -- what a full pool and a failing database answer --------------------------------------


async def test_a_turn_waits_no_longer_than_the_pool_would(services: Services) -> None:
    """Waiting for a turn at a full pool ends after the pool's own timeout with the pool's
    error, which the site answers with 503 and Retry-After (found by a review: the line in
    front of the pool had no end)."""
    if services.settings.is_sqlite:
        pytest.skip("SQLite's hot paths queue in driver_work.SqliteWriter, not at the pool")
    engine = create_engine(
        services.settings, pool_size=1, max_overflow=0, pool_timeout=0.3, pool_pre_ping=False
    )
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold(_fairy: PoolProxiedConnection, _dialect: Dialect) -> None:
        held.set()
        await release.wait()

    async def quick(_fairy: PoolProxiedConnection, _dialect: Dialect) -> str:
        return "served"

    def never(_conn: sqlite3.Connection, _dialect: Dialect) -> None:
        raise AssertionError("PostgreSQL only")

    holder = asyncio.create_task(on_driver(engine, never, hold))
    try:
        await held.wait()
        started = time.monotonic()
        with pytest.raises(PoolTimeout) as raised:
            await asyncio.wait_for(on_driver(engine, never, quick), timeout=5)
        assert time.monotonic() - started < 2
        assert is_unreachable(raised.value)
    finally:
        release.set()
        await holder
    assert await on_driver(engine, never, quick) == "served"
    await engine.dispose()


async def test_a_database_error_on_sqlite_reads_as_the_orms(sqlite_services: Services) -> None:
    """SQLite's own errors leave the hot paths as SQLAlchemy's, as from the ORM path: a
    locked or full database is an outage (503), not a bug (500). Found by a review."""
    engine = sqlite_services.hot_engine or sqlite_services.engine

    def locked(_conn: sqlite3.Connection, _dialect: Dialect) -> None:
        raise sqlite3.OperationalError("database is locked")

    async def never(_fairy: PoolProxiedConnection, _dialect: Dialect) -> None:
        raise AssertionError("SQLite only")

    with pytest.raises(DBAPIError) as raised:
        await on_driver(engine, locked, never)
    assert isinstance(raised.value.orig, sqlite3.OperationalError)
    assert is_unreachable(raised.value)


async def test_a_writer_does_not_keep_its_engine_alive(sqlite_services: Services) -> None:
    engine = create_engine(sqlite_services.settings)

    def nothing(_conn: sqlite3.Connection, _dialect: Dialect) -> str:
        return "done"

    async def never(_fairy: PoolProxiedConnection, _dialect: Dialect) -> None:
        raise AssertionError("SQLite only")

    assert await on_driver(engine, nothing, never) == "done"
    seen = weakref.ref(engine.sync_engine)
    await engine.dispose()
    del engine
    gc.collect()
    assert seen() is None


# -- the writer's edges, found by a review of the group commit ----------------------------


def _feed_work(address: str) -> Callable[[sqlite3.Connection, Dialect], str]:
    def work(conn: sqlite3.Connection, _dialect: Dialect) -> str:
        conn.execute(
            "INSERT INTO attendee_feeds (email_normalised, token_nonce, token_hash, created_at)"
            " VALUES (?, ?, ?, '2027-01-01 00:00:00.000000')",
            (address, address, address),
        )
        return address

    return work


async def _no_postgres(_fairy: PoolProxiedConnection, _dialect: Dialect) -> NoReturn:
    raise AssertionError("SQLite only")


async def _feeds(services: Services) -> list[str]:
    async with services.transaction() as session:
        return sorted(await session.scalars(select(AttendeeFeed.email_normalised)))


async def test_a_caller_gone_while_its_batch_waits_for_the_connection_writes_nothing(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    engine = services.hot_engine or services.engine
    async with services.transaction() as session:
        await session.execute(select(1))  # a unit of work holds the one writer connection
        gone = asyncio.create_task(on_driver(engine, _feed_work("gone@example.se"), _no_postgres))
        await asyncio.sleep(0.1)  # its batch is waiting for the connection
        gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    kept = await on_driver(engine, _feed_work("kept@example.se"), _no_postgres)
    assert kept == "kept@example.se"
    assert await _feeds(services) == ["kept@example.se"]


async def test_a_pieces_own_savepoint_does_not_save_its_writes_from_its_failure(
    sqlite_services: Services,
) -> None:
    engine = sqlite_services.hot_engine or sqlite_services.engine

    def nested(conn: sqlite3.Connection, dialect: Dialect) -> None:
        _feed_work("before@example.se")(conn, dialect)
        conn.execute("SAVEPOINT piece")  # the name the writer's own savepoint once had
        raise ValueError("fails after its own savepoint")

    outcomes = await asyncio.gather(
        on_driver(engine, nested, _no_postgres),
        on_driver(engine, _feed_work("ok@example.se"), _no_postgres),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], ValueError)
    assert outcomes[1] == "ok@example.se"
    assert await _feeds(sqlite_services) == ["ok@example.se"]


async def test_work_runs_in_its_callers_context(sqlite_services: Services) -> None:
    """Log lines written by a piece carry its own request's id, not another's."""
    engine = sqlite_services.hot_engine or sqlite_services.engine
    seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="none")

    async def one(name: str) -> str:
        seen.set(name)
        return await on_driver(engine, lambda _conn, _dialect: seen.get(), _no_postgres)

    assert await asyncio.gather(*(one(f"request-{n}") for n in range(5))) == [
        f"request-{n}" for n in range(5)
    ]


async def test_a_batch_begun_is_answered_even_when_the_writer_is_cancelled(
    sqlite_services: Services,
) -> None:
    """Cancelling the writer's task while its batch waits in aiosqlite's thread (another
    process held the lock) neither answers committed work with an error nor gives the
    connection back while the thread still uses it."""
    services = sqlite_services
    engine = services.hot_engine or services.engine
    other = sqlite3.connect(_path(services), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
    try:
        calls = [
            asyncio.create_task(on_driver(engine, _feed_work(f"{n}@example.se"), _no_postgres))
            for n in range(3)
        ]
        await asyncio.sleep(0.1)  # the batch is in the thread, waiting for the lock
        writer = SqliteWriter.of(engine)
        assert writer.draining is not None
        writer.draining.cancel()
        answers = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        other.close()
    assert answers == [f"{n}@example.se" for n in range(3)]
    assert await _feeds(services) == [f"{n}@example.se" for n in range(3)]
    after = await on_driver(engine, _feed_work("after@example.se"), _no_postgres)
    assert after == "after@example.se"


async def test_work_that_waited_longer_than_the_pool_would_is_not_begun(
    sqlite_services: Services,
) -> None:
    """While another process held the lock for longer than the pool's timeout, work that
    arrived meanwhile gets the pool's TimeoutError (a 503) instead of running late."""
    services = sqlite_services
    engine = create_engine(services.settings, pool_timeout=0.3)
    other = sqlite3.connect(_path(services), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(1.0, other.execute, "COMMIT")
    try:
        first = asyncio.create_task(on_driver(engine, _feed_work("first@example.se"), _no_postgres))
        await asyncio.sleep(0.1)
        late = asyncio.create_task(on_driver(engine, _feed_work("late@example.se"), _no_postgres))
        assert await first == "first@example.se"
        with pytest.raises(PoolTimeout):
            await late
    finally:
        other.close()
        await engine.dispose()
    assert await _feeds(services) == ["first@example.se"]


class _Abort(BaseException):
    """Not an Exception: what no work should raise, yet might."""


async def test_work_raising_beyond_exception_fails_its_own_batch_only(
    sqlite_services: Services,
) -> None:
    engine = sqlite_services.hot_engine or sqlite_services.engine

    def aborts(_conn: sqlite3.Connection, _dialect: Dialect) -> None:
        raise _Abort

    failed = asyncio.create_task(on_driver(engine, aborts, _no_postgres))
    await asyncio.sleep(0)  # its batch begins: later work waits for the next one
    later = [
        asyncio.create_task(on_driver(engine, _feed_work(f"{n}@example.se"), _no_postgres))
        for n in range(2)
    ]
    with pytest.raises(_Abort):
        await failed
    assert await asyncio.gather(*later) == ["0@example.se", "1@example.se"]


async def test_an_engine_whose_pool_has_no_timeout_writes_too(sqlite_services: Services) -> None:
    """A script's engine without a queue pool (NullPool) has no timeout to wait by: its work
    waits as long as it takes, instead of being timed out at once (found by a review)."""
    engine = create_async_engine(sqlite_services.settings.database_url, poolclass=NullPool)
    try:
        assert await on_driver(engine, _feed_work("np@example.se"), _no_postgres) == "np@example.se"
    finally:
        await engine.dispose()
    assert await _feeds(sqlite_services) == ["np@example.se"]


async def test_bookings_of_an_event_whose_row_is_held_leave_the_pool_to_others(
    services: Services,
) -> None:
    """Someone holds one event's row (a long transaction, a psql session) while its bookings
    pour in: at most half the pool waits on it with a connection, and another event books
    at once. Found by an attack: they took every connection, and every other event's
    bookings got the pool's 503 after its timeout."""
    if services.settings.is_sqlite:
        pytest.skip("PostgreSQL's row locks; SQLite has one writer")
    held, other = await make_event(services, capacity=500), await make_event(services, capacity=5)
    hot = create_engine(
        services.settings, pool_size=6, max_overflow=0, pool_timeout=3, pool_pre_ping=False
    )
    async with services.engine.connect() as holder:
        hold = text("SELECT 1 FROM events WHERE id = :id FOR UPDATE")
        await holder.execute(hold, {"id": held.id})
        waiting = [
            asyncio.create_task(_claim(hot, held.id, person(n, email=f"held{n}@example.se")))
            for n in range(20)
        ]
        await asyncio.sleep(0.3)  # they queue on the held row
        started = time.monotonic()
        booked = await _claim(hot, other.id, person(99))
        assert booked is not None
        assert time.monotonic() - started < 1.5, "another event's booking waited for the row"
        await holder.rollback()
    results = await asyncio.gather(*waiting)
    assert all(r is not None for r in results)  # the held event's bookings went through after
    # Only rows in use are remembered: ids from requests cost nothing after them.
    assert driver_work._rows[hot.sync_engine][1] == {}
    await hot.dispose()


async def _claim(engine: AsyncEngine, event_id: int, attendee: Attendee) -> Claimed | None:
    return await claim_seat(
        engine,
        event_id=event_id,
        attendee=attendee,
        secret_key=SECRET,
        now=utcnow(),
        tz_name="Europe/Stockholm",
    )
