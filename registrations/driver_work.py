"""Work on the driver connection the pool hands out, for the hot paths of booking
(registrations.seat_claims) and cancelling (registrations.seat_releases), issue 11.

What both need: the way to the driver (SQLite: `SqliteWriter`'s group commit, on the event
loop or in one call in aiosqlite's thread; PostgreSQL: asyncpg itself, with turns at the
pool first come, first served), rows converted as SQLAlchemy converts them (so a row written
here reads back as the ORM's own, and one read here is the ORM's object, in no session), and
a failed statement told apart from a case for the ORM path or an outage.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.util import greenlet_spawn

from events.models import Event
from foundation.database import BUSY_TIMEOUT_MS, Base
from foundation.outage import is_unreachable
from registrations.models import Registration

T = TypeVar("T")
M = TypeVar("M", bound=Base)


async def on_driver(
    engine: AsyncEngine,
    on_sqlite: Callable[[sqlite3.Connection, Dialect], T],
    on_postgres: Callable[[PoolProxiedConnection, Dialect], Awaitable[T]],
    *,
    row: int | None = None,
) -> T:
    """`on_postgres(fairy, dialect)` on a connection of `engine`'s pool, given back after;
    on SQLite `on_sqlite(conn, dialect)` inside an immediate transaction it shares with the
    hot-path work that arrived with it (`SqliteWriter`), committed before this returns.
    `on_sqlite` must not end the transaction; what it raises undoes its own writes only,
    and is raised here. `row`: the id of the event whose row lock `on_postgres` takes, if
    known; at most half the pool waits for one row at a time (`_row_turn`). Raises
    sqlalchemy.exc.TimeoutError when no turn comes within the pool's timeout."""
    if engine.dialect.name == "sqlite":
        try:
            return await SqliteWriter.of(engine).run(on_sqlite)
        except sqlite3.Error as exc:
            # As the ORM path raises it, so a locked or full database is the same 503 with
            # Retry-After there and here (foundation.outage), not a 500.
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
    async with _row_turn(engine, row), _turn(engine):
        fairy = await engine.raw_connection()
        try:
            return await on_postgres(fairy, engine.dialect)
        finally:
            await greenlet_spawn(fairy.close)


_turns: WeakKeyDictionary[Engine, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]] = (
    WeakKeyDictionary()
)


@asynccontextmanager
async def _turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """A turn at `engine`'s pool, first come first served: as many at once as the pool
    holds connections (pool_size + max_overflow), the rest waiting in line here, as long as
    the pool's own timeout at most; then sqlalchemy.exc.TimeoutError, as the pool raises it
    (a 503 with Retry-After, foundation.outage).

    Why: a connection given back goes to the pool's first waiter only once that waiter
    runs, and a request arriving meanwhile takes it first; the waiter then joins the back
    of the queue again (asyncio.Queue). Under a rush some waited many turns: the p99.
    asyncio.Semaphore lets nobody past its waiters."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool) or pool._max_overflow < 0:
        yield  # no limit to queue for
        return
    loop = asyncio.get_running_loop()
    found = _turns.get(engine.sync_engine)
    if found is None or found[0] is not loop:
        found = (loop, asyncio.Semaphore(pool.size() + pool._max_overflow))
        _turns[engine.sync_engine] = found
    turns = found[1]
    await _acquire(turns, pool._timeout, f"the pool ({pool.size() + pool._max_overflow} at once)")
    try:
        yield
    finally:
        turns.release()


async def _acquire(turns: asyncio.Semaphore, seconds: float, what: str) -> None:
    """`turns` acquired within `seconds`, else the pool's own TimeoutError."""
    try:
        async with asyncio.timeout(seconds):
            await turns.acquire()
    except TimeoutError:
        raise PoolTimeout(f"no turn at {what} within {seconds:g} s") from None


# How much of the pool the hot statements of one process waiting for one event's row lock
# may take at once: half. With no cap, bookings of an event whose row someone held (a long
# transaction, a psql session) took every connection, and bookings of every other event
# waited behind them until the pool's timeout (found by an attack). A row lock lets one
# statement through at a time, but a smaller cap (4 of 20) queued a busy event's bookings
# here and doubled the p99 of bench/booking.py; half left it as without a cap.
ROW_SHARE = 2


@dataclass
class _RowTurns:
    turns: asyncio.Semaphore
    users: int = 0  # waiting or holding a turn: the entry goes when none is left


_rows: WeakKeyDictionary[Engine, tuple[asyncio.AbstractEventLoop, dict[int, _RowTurns]]] = (
    WeakKeyDictionary()
)


@asynccontextmanager
async def _row_turn(engine: AsyncEngine, row: int | None) -> AsyncIterator[None]:
    """A turn among the 1/ROW_SHARE of the pool's connections that may wait for event
    `row`'s lock at once (first come, first served, within the pool's timeout); none needed
    when `row` is None. Only rows in use have an entry, so ids from requests cost no memory
    after them."""
    pool = engine.sync_engine.pool
    if row is None or not isinstance(pool, QueuePool):
        yield
        return
    loop = asyncio.get_running_loop()
    found = _rows.get(engine.sync_engine)
    if found is None or found[0] is not loop:
        found = (loop, {})
        _rows[engine.sync_engine] = found
    rows = found[1]
    turns = rows.get(row)
    if turns is None:
        share = max(1, (pool.size() + max(pool._max_overflow, 0)) // ROW_SHARE)
        turns = rows[row] = _RowTurns(asyncio.Semaphore(share))
    turns.users += 1
    try:
        await _acquire(turns.turns, pool._timeout, f"event {row}'s row")
        try:
            yield
        finally:
            turns.turns.release()
    finally:
        turns.users -= 1
        if turns.users == 0:
            del rows[row]


Work = Callable[[sqlite3.Connection, Dialect], Any]
# Each piece's savepoint; a name no work uses, so a piece's own savepoints nest inside it.
SAVEPOINT_NAME = "lunchkafe_hot_piece"
# What one transaction takes at most: each piece is some ten statements (about 0.1 ms), so
# the event loop is never held for more than a few milliseconds.
BATCH = 32


_writers: WeakKeyDictionary[Engine, SqliteWriter] = WeakKeyDictionary()


@dataclass
class _Piece:
    work: Work
    done: asyncio.Future[Any]
    # The caller's context (its request id for the log lines the work writes).
    context: contextvars.Context
    # loop.time() after which it is not begun: it has waited as long as the pool would let
    # it, and gets the pool's TimeoutError, as it would have from the pool.
    deadline: float


class SqliteWriter:
    """The hot paths' writes on SQLite's one writer connection, committed in groups.

    Under a rush, the bookings that arrive while a transaction is being written wait, and
    the next transaction takes them all (up to BATCH): one pool checkout, one BEGIN
    IMMEDIATE and one COMMIT, the WAL written once, for them together. Each piece runs in a
    savepoint of its own, in the order it arrived, and sees the pieces before it, so every
    booking rule holds as if each had its own transaction; one that raises undoes only its
    own writes. Nobody is answered before the COMMIT. This is the group commit databases do
    inside (issue 11: BEGIN, COMMIT and the checkout were a third of a booking's CPU).

    One writer per engine and event loop; a task of its own drains the queue, so a caller
    that goes away (a closed connection cancels its request) takes no one else's answer
    with it."""

    def __init__(self, engine: AsyncEngine) -> None:
        # Weakly: _writers is keyed by the engine, which this would otherwise keep alive.
        self.engine = weakref.ref(engine)
        self.loop = asyncio.get_running_loop()
        self.queue: deque[_Piece] = deque()
        self.draining: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, engine: AsyncEngine) -> SqliteWriter:
        writer = _writers.get(engine.sync_engine)
        if writer is None or writer.loop is not asyncio.get_running_loop():
            writer = _writers[engine.sync_engine] = cls(engine)
        return writer

    async def run(self, work: Callable[[sqlite3.Connection, Dialect], T]) -> T:
        engine = self.engine()
        pool = engine.sync_engine.pool if engine is not None else None
        # A pool without a timeout (NullPool, StaticPool) lets work wait as long as it takes.
        wait = pool.timeout() if isinstance(pool, QueuePool) else math.inf
        piece = _Piece(
            work,
            self.loop.create_future(),
            contextvars.copy_context(),
            self.loop.time() + wait,
        )
        self.queue.append(piece)
        if self.draining is None:
            # In a context of its own: not that of the request that happened to start it.
            self.draining = self.loop.create_task(self._drain(), context=contextvars.Context())
        result: T = await piece.done
        return result

    async def _drain(self) -> None:
        try:
            while self.queue:
                batch: list[_Piece] = []
                now = self.loop.time()
                while self.queue and len(batch) < BATCH:
                    piece = self.queue.popleft()
                    if piece.done.cancelled():  # its caller went away before its turn
                        continue
                    if now > piece.deadline:
                        piece.done.set_exception(PoolTimeout("no turn at the writer in time"))
                        continue
                    batch.append(piece)
                if batch:
                    # Shielded: a batch once begun is finished and answered, even when this
                    # task is cancelled, and its connection is given back only after.
                    await asyncio.shield(self.loop.create_task(self._write(batch)))
        except BaseException as exc:  # the loop is closing: nobody left waits for nothing
            while self.queue:
                piece = self.queue.popleft()
                if not piece.done.done():
                    piece.done.set_exception(exc)
            raise
        finally:
            self.draining = None

    async def _write(self, batch: list[_Piece]) -> None:
        try:
            engine = self.engine()
            if engine is None:
                raise RuntimeError("the engine was disposed of")
            fairy = await engine.raw_connection()
            try:
                outcomes = await _on_sqlite(fairy, batch, engine.dialect)
            finally:
                await greenlet_spawn(fairy.close)
        except BaseException as exc:  # the checkout or the COMMIT: the whole batch failed
            for piece in batch:
                if not piece.done.done():
                    piece.done.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            return
        for piece, (ok, value) in zip(batch, outcomes, strict=True):
            if piece.done.done():
                continue  # cancelled meanwhile: done, and nobody is waiting for the answer
            if ok:
                piece.done.set_result(value)
            else:
                piece.done.set_exception(value)


async def _on_sqlite(
    fairy: PoolProxiedConnection, batch: list[_Piece], dialect: Dialect
) -> list[tuple[bool, Any]]:
    """`_write_batch` right here on the event loop while no other process holds SQLite's
    write lock; else in aiosqlite's thread, where it waits for the lock as long as any
    other transaction would.

    Here, because the hand-off costs more than the transaction: under a rush of bookings
    the event loop and aiosqlite's thread took turns with the GIL, and each booking waited
    for it twice (py-spy, issue 11). It is safe: the pool gave this, the one writer
    connection, to us alone, so its thread is idle. Not waiting here (busy_timeout 0) keeps
    the loop from stalling behind another process's transaction; SQLite's "database is
    locked" then comes from the BEGIN, before anything was written.
    """
    driver: Any = fairy.driver_connection
    conn: sqlite3.Connection = driver._conn
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        return _write_batch(conn, batch, dialect)
    except sqlite3.OperationalError as exc:
        if conn.in_transaction or not is_locked(exc):
            raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # aiosqlite has no public call for "run this in the connection's thread"; its _execute
    # is what each of its own methods uses.
    return await driver._execute(_write_batch, conn, batch, dialect)  # type: ignore[no-any-return]


def _write_batch(
    conn: sqlite3.Connection, batch: list[_Piece], dialect: Dialect
) -> list[tuple[bool, Any]]:
    """Each piece's work in a savepoint of its own (SAVEPOINT_NAME, which work may not
    use), all in one immediate transaction: (True, its result) or (False, what it raised),
    in order; a piece whose caller went away meanwhile is not begun. Raises what BEGIN or
    COMMIT raises, the transaction rolled back."""
    conn.execute("BEGIN IMMEDIATE")  # the writer's lock first: every read and write as one
    outcomes: list[tuple[bool, Any]] = []
    try:
        for piece in batch:
            if piece.done.cancelled():
                outcomes.append((False, asyncio.CancelledError()))
                continue
            conn.execute(f"SAVEPOINT {SAVEPOINT_NAME}")
            try:
                value = piece.context.run(piece.work, conn, dialect)
            except Exception as exc:
                conn.execute(f"ROLLBACK TO {SAVEPOINT_NAME}")
                conn.execute(f"RELEASE {SAVEPOINT_NAME}")
                outcomes.append((False, exc))
            else:
                conn.execute(f"RELEASE {SAVEPOINT_NAME}")
                outcomes.append((True, value))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def is_locked(exc: sqlite3.OperationalError) -> bool:
    """SQLite's SQLITE_BUSY: another connection holds the lock."""
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or (
        "database is locked" in str(exc)
    )


# -- the rows as SQLAlchemy stores them ----------------------------------------------------


def select_list(model: type[Base], alias: str = "") -> str:
    """`model`'s columns in table order, as `detached` reads them: "id, …" or, with an
    alias, "r.id, r.…". Only names from the model go into the text."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + c.name for c in model.__table__.columns)


EVENT_SELECT = select_list(Event)

_Processor = Callable[[Any], Any] | None
_results: dict[tuple[str, str], list[_Processor]] = {}
_stamps: dict[str, _Processor] = {}


def _result_processors(model: type[Base], dialect: Dialect) -> list[_Processor]:
    key = (dialect.name, model.__tablename__)
    found = _results.get(key)
    if found is None:
        found = [
            c.type.dialect_impl(dialect).result_processor(dialect, None)
            for c in model.__table__.columns
        ]
        _results[key] = found
    return found


def detached(model: type[M], row: Sequence[Any], dialect: Dialect) -> M:
    """A `model` in no session (see `loaded`) from a row of its columns in table order
    (`select_list`), each value converted as the ORM converts it."""
    processors = _result_processors(model, dialect)
    columns = model.__table__.columns
    return loaded(
        model,
        {
            c.key: (p(v) if p is not None and v is not None else v)
            for c, p, v in zip(columns, processors, row, strict=True)
        },
    )


def loaded(model: type[M], values: dict[str, Any]) -> M:
    """A `model` in no session holding `values` (attribute keys) as if read from its row:
    no pending changes, an attribute not given reads as None, and so does a relationship.
    For reading only: SQLAlchemy calls it transient, so a session it were added to would
    insert it again.

    Built as the ORM's own loading builds an instance (its class manager's new_instance,
    then the values into its dict): about 1 µs, where the constructor takes 17 µs recording
    each value as a change to flush, which a copy handed back to a request never needs."""
    instance: M = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    return instance


def stamp(value: datetime, dialect: Dialect) -> Any:
    """An aware datetime as a UTCDateTime column stores it on `dialect`."""
    if dialect.name not in _stamps:
        stamp_type = Registration.__table__.c.created_at.type
        _stamps[dialect.name] = stamp_type.dialect_impl(dialect).bind_processor(dialect)
    processor = _stamps[dialect.name]
    return processor(value) if processor is not None else value


# -- PostgreSQL's errors -------------------------------------------------------------------

UNIQUE_VIOLATION = "23505"
DEADLOCK = "40P01"


class StatementFailed(RuntimeError):
    """A hot-path statement failed on PostgreSQL: the server's primary message (which names
    the constraint) and SQLSTATE (`sqlstate`), without its DETAIL, which quotes row data (as
    foundation.database._drop_postgres_detail does for SQLAlchemy's errors)."""

    sqlstate: str | None = None


def fall_back_or_raise(
    exc: Exception, fairy: PoolProxiedConnection, fall_back_on: frozenset[str]
) -> None:
    """Return (the caller then answers None, for the ORM path) when `exc` is a lost
    connection, which is invalidated, or has a SQLSTATE in `fall_back_on`; raise `exc`
    itself when it is no database error, a DBAPIError for one that means busy or away
    (foundation.outage: a 503), else StatementFailed."""
    conn = fairy.driver_connection
    assert conn is not None
    if conn.is_closed():  # the server went away: this connection is done for
        fairy.invalidate()
        return
    state = getattr(exc, "sqlstate", None)
    if state in fall_back_on:
        return
    if state is None:
        raise exc
    said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
    failed = StatementFailed(f"{type(exc).__name__}: {said} (SQLSTATE {state})")
    failed.sqlstate = state
    if is_unreachable(DBAPIError(None, None, failed)):
        # Busy or going away (too many connections, a server shutting down): as the ORM
        # path raises it, so the site answers 503 with Retry-After, not 500.
        raise DBAPIError(None, None, failed) from None
    raise failed from None
