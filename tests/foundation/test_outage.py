"""Which database errors mean "unreachable now" (a 503 with Retry-After, one WARNING line)
and which are bugs (a 500 with its traceback logged): on SQLite the driver raises
OperationalError for both, a missing file and a missing table alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from foundation.outage import is_unreachable


async def _error_of(url: str, sql: str) -> DBAPIError:
    engine = create_async_engine(url)
    try:
        with pytest.raises(DBAPIError) as raised:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
    finally:
        await engine.dispose()
    return raised.value


async def test_sqlite_that_cannot_open_its_file_is_unreachable(tmp_path: Path) -> None:
    gone = tmp_path / "no" / "such" / "dir" / "lunchkafe.db"
    assert is_unreachable(await _error_of(f"sqlite+aiosqlite:///{gone}", "SELECT 1"))


@pytest.mark.parametrize(
    "sql", ["SELECT * FROM no_such_table", "SELEKT 1", "SELECT no_such_column FROM t"]
)
async def test_a_bug_in_sql_on_sqlite_is_no_outage(tmp_path: Path, sql: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lunchkafe.db'}"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (a INTEGER)"))
    await engine.dispose()
    assert not is_unreachable(await _error_of(url, sql))
