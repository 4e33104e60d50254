"""The async engine, the session factory and the unit of work a request or job owns."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from foundation.settings import Settings

# Named constraints so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# How long a SQLite connection waits for another's write lock before "database is locked".
BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    """Create the engine; SQLite gets one writer connection and immediate transactions.

    Statement parameters and result rows never reach a log or an error message: they hold
    names, addresses and token nonces (GDPR art. 5(1)(f); a log outlives retention).
    """
    _keep_row_data_out_of_logs()
    overrides = {"hide_parameters": True, **overrides}
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {
            # One connection: aiosqlite gives each connection a thread, and concurrent
            # writers on one file only queue on SQLite's lock anyway. Queueing in the
            # pool instead avoids "database is locked" and keeps p99 low.
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 60,
            "connect_args": {"timeout": 30},
            # No rollback when a connection comes back: every transaction here ends in a
            # COMMIT or ROLLBACK of its own (SQLAlchemy's, or the booking hot path's), and
            # the pool's extra one is a hand-off to aiosqlite's thread while the one writer
            # connection is held (registrations.seat_claims).
            "pool_reset_on_return": None,
        }
        options.update(overrides)
        engine = create_async_engine(settings.database_url, **options)
        _configure_sqlite(engine)
        return engine
    options = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
    options.update(overrides)
    engine = create_async_engine(settings.database_url, **options)
    event.listen(engine.sync_engine, "handle_error", _drop_postgres_detail)
    return engine


def create_hot_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """The engine of the hot paths (registrations.seat_claims, registrations.seat_releases):
    on SQLite `engine` itself, whose one connection is the only writer; on PostgreSQL a pool
    of its own without the pre-ping, which would cost each booking a round trip more. A
    connection that died meanwhile fails its booking's first statement, is dropped, and the
    booking goes through `engine` (booking is idempotent per address, so that retry is safe).
    """
    if settings.is_sqlite:
        return engine
    return create_engine(settings, pool_pre_ping=False)


def _drop_postgres_detail(context: ExceptionContext) -> None:
    """Takes PostgreSQL's DETAIL out of a database error before anyone formats it.

    hide_parameters removes the statement's parameters, but the server itself quotes row data
    in DETAIL ("Key (email)=(…) already exists", "Failing row contains (…)"), which asyncpg
    puts into the error's text and SQLAlchemy into the message it wraps. The primary message
    and the constraint name stay: they say what went wrong without saying about whom.
    """
    # SQLAlchemy's own error has already copied the driver's text into its message, so each
    # link of the chain a traceback prints is cleaned.
    chain: list[BaseException | None] = [context.sqlalchemy_exception]
    error: BaseException | None = context.original_exception
    while error is not None:
        chain.append(error)
        error = error.__cause__
    for link in chain:
        if link is None:
            continue
        if getattr(link, "detail", None):
            link.detail = None  # type: ignore[attr-defined]
        if link.args and isinstance(link.args[0], str) and "\nDETAIL:" in link.args[0]:
            first, _, rest = link.args[0].partition("\nDETAIL:")
            # SQLAlchemy's text goes on with "[SQL: …]" on a line of its own; keep that.
            kept = rest[rest.index("\n[SQL:") :] if "\n[SQL:" in rest else ""
            link.args = (first + kept, *link.args[1:])


class _RowDataFilter(logging.Filter):
    """Keeps the data of rows out of DEBUG logs, which hide_parameters does not cover:
    SQLAlchemy's "Row (...)" lines, and aiosqlite's "executing <call with its parameters>"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("sqlalchemy.engine") and record.msg == "Row %r":
            record.msg, record.args = "Row [hidden: may hold personal data]", ()
        elif record.name == "aiosqlite" and record.levelno <= logging.DEBUG:
            # The message is a functools.partial repr, statement and parameters included.
            record.msg = str(record.msg).replace("%s", "[call hidden]")
            record.args = ()
        return True


_ROW_DATA_FILTER = _RowDataFilter()
# SQLAlchemy's engine logs through the class logger unless an engine has a logging_name.
_ROW_DATA_LOGGERS = ("sqlalchemy.engine.Engine", "aiosqlite")


def _keep_row_data_out_of_logs() -> None:
    for name in _ROW_DATA_LOGGERS:
        logger = logging.getLogger(name)
        if _ROW_DATA_FILTER not in logger.filters:
            logger.addFilter(_ROW_DATA_FILTER)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a capacity check and the insert
        # that follows it can never interleave with another process's booking.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Reader connections for SQLite: pages read beside the writer instead of queueing behind it.
# Each holds an aiosqlite thread; a few suffice, since pages are memoised (foundation.page_memo).
READERS = 4


def create_reader_engine(settings: Settings, **overrides: Any) -> AsyncEngine | None:
    """SQLite: an engine of READERS connections that only read (`PRAGMA query_only`), each
    page in one deferred transaction, so in WAL mode a page reads one consistent snapshot
    while the writer holds its lock, and waits for nobody. None for PostgreSQL, whose pages
    read through the one engine in read-only transactions (see `reading_sessionmaker`)."""
    if not settings.is_sqlite:
        return None
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "hide_parameters": True,
        "pool_size": READERS,
        "max_overflow": 0,
        "pool_timeout": 60,
        "connect_args": {"timeout": 30},
    }
    options.update(overrides)
    engine = create_async_engine(settings.database_url, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL is a property of the file, set by whichever connection comes first; only in
        # WAL do readers and the writer not block each other.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # A page that tried to write would fail here rather than take the write lock.
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # DEFERRED: the snapshot begins at the first SELECT and no lock is asked for.
        conn.exec_driver_sql("BEGIN DEFERRED")

    return engine


def reading_sessionmaker(
    engine: AsyncEngine, readers: AsyncEngine | None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for pages that only read: on SQLite's reader engine, else on `engine` with
    each transaction begun READ ONLY (asyncpg sends it with BEGIN: no extra round trip)."""
    if readers is not None:
        return create_sessionmaker(readers)
    return create_sessionmaker(engine.execution_options(postgresql_readonly=True))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends cleanly, rolled back otherwise."""
    async with sessionmaker() as session, session.begin():
        yield session


def conflict_insert(session: AsyncSession, table: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """`INSERT INTO table` in the session's own dialect, which has ON CONFLICT (PostgreSQL,
    and SQLite since 3.24): `.values(...).on_conflict_do_nothing(index_elements=[...])` makes
    two writers racing for one unique key agree instead of failing."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
