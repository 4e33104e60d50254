"""The database is unreachable: the errors that say so, and what a visitor gets meanwhile.

A page or API call that needs the database answers 503 with `Retry-After` (RFC 9110
§15.6.4, §10.2.3) instead of a 500: the fault is ours and passing, and a client or a
calendar may come back. Public feeds serve their last copy instead (events/feeds.py).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Seconds a client is asked to wait: a database restart or fail-over takes about this long.
RETRY_AFTER = 30

# What the drivers raise when the server is away: refused or reset connections (asyncpg
# raises OSError subclasses at connect), a pool that cannot hand out a connection, and the
# DB-API's operational and interface errors (SQLite's "unable to open database", a
# PostgreSQL connection closed mid-query).
UNREACHABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    ConnectionError,
    TimeoutError,
)


# SQLSTATEs of a PostgreSQL server that is up but turns work away for now (PostgreSQL's
# "Appendix A. Error Codes"): class 08 (connection exception), 53300 too_many_connections,
# 57P01-57P03 (admin and crash shutdown, "the database system is starting up"). asyncpg's
# errors for them reach SQLAlchemy as a plain DBAPIError, not an OperationalError.
REFUSING_CLASSES = ("08",)
REFUSING_STATES = frozenset({"53300", "57P01", "57P02", "57P03"})


# SQLite's driver raises OperationalError for a file it cannot open or a lock it cannot get,
# and for a bug alike ("no such table", a syntax error): only these messages are an outage.
SQLITE_UNREACHABLE = (
    "unable to open database",
    "database is locked",
    "disk i/o error",
    "database or disk is full",
)


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached now, rather than a bug."""
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.Error):
        message = str(exc.orig).lower()
        return any(words in message for words in SQLITE_UNREACHABLE)
    if isinstance(exc, UNREACHABLE):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    return (
        exc.connection_invalidated or state in REFUSING_STATES or state.startswith(REFUSING_CLASSES)
    )
