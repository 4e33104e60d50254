"""Scratch PostgreSQL databases, for the tests, scripts/ and bench/ alike.

A scratch database is made through an administrative URL (any database on the server to
connect to while the scratch one is dropped and created, `postgres` by default): whatever an
earlier run left under that name is dropped first, connections and all, and the new database
is empty. Its URL is the administrative URL with the database name replaced.

Nothing here imports pytest or the app, so the benchmarks and scripts use it as it is.
"""

from __future__ import annotations

import os
import re

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

# The suite's PostgreSQL (README, "Configuration"); TEST_POSTGRES_URL overrides it.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # written into SQL: plain identifiers only


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server `admin_url` names."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def execute_as_admin(admin_url: str, *statements: str) -> None:
    """Run `statements` one by one, each in its own transaction, through `admin_url`."""
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await admin.dispose()


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


async def scratch_database(admin_url: str, name: str) -> str:
    """Drop database `name` if it is there and create it empty; returns its URL."""
    await execute_as_admin(
        admin_url,
        f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    )
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` if it is there, closing the connections still open to it."""
    await execute_as_admin(admin_url, f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')
