"""The async engine, the session factory and the unit of work a request or job owns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from lunchkafe.settings import Settings

# Named constraints so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    """Create the engine; SQLite gets one writer connection and immediate transactions."""
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
        }
        options.update(overrides)
        engine = create_async_engine(settings.database_url, **options)
        _configure_sqlite(engine)
        return engine
    options = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
    options.update(overrides)
    return create_async_engine(settings.database_url, **options)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a capacity check and the insert
        # that follows it can never interleave with another process's booking.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends cleanly, rolled back otherwise."""
    async with sessionmaker() as session, session.begin():
        yield session
