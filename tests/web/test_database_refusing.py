"""A PostgreSQL server that is up but turns connections away (too many connections, starting
up or shutting down) is an outage like a stopped one: pages and the API answer 503 with
Retry-After rather than 500.

The refusal is real: a role of the test's own with CONNECTION LIMIT 0 on the suite's server,
which PostgreSQL answers at connect with SQLSTATE 53300 (too_many_connections), as it does
when max_connections is reached.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from foundation.services import Services
from lunchkafe.app import create_app
from tests.conftest import make_settings, require_service
from tests.databases import POSTGRES_ADMIN_URL


async def _admin(*statements: str) -> None:
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def refused(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a server that refuses every connection of its role."""
    role = f"lunchkafe_refused_{os.getpid()}"
    try:
        await _admin(
            f'DROP ROLE IF EXISTS "{role}"', f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0'
        )
    except (OSError, Exception) as exc:  # asyncpg raises several kinds on no server
        require_service("PostgreSQL", str(exc)[:200])
    url = make_url(POSTGRES_ADMIN_URL).set(username=role).render_as_string(hide_password=False)
    services = Services.build(make_settings(url, tmp_path / "var"))
    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await services.close()
    await _admin(f'DROP ROLE IF EXISTS "{role}"')


async def test_a_server_refusing_connections_gets_503_with_retry_after(
    refused: httpx.AsyncClient,
) -> None:
    page = await refused.get("/events/1")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "30"
    assert "tillfälligt otillgänglig" in page.text

    api = await refused.get("/api/v1/events/1")
    assert api.status_code == 503
    assert api.headers["retry-after"] == "30"
    assert api.json()["code"] == "unavailable"
