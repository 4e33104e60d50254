"""Real databases for every test: a SQLite file and a PostgreSQL database, migrated once.

PostgreSQL is at 127.0.0.1:5432 (override with TEST_POSTGRES_URL). When it is missing the
PostgreSQL half of the suite is skipped with a message, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from foundation.database import Base
from foundation.services import Services
from foundation.settings import Settings
from lunchkafe.app import create_app
from lunchkafe.migrate import upgrade
from lunchkafe.models import Event  # noqa: F401  (registers every table)

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI") == "true"
SECRET = "test-secret-key-not-for-production"


def require_service(name: str, reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass CI silently."""
    message = f"{name} is not reachable ({reason}); start it as machines/python-svc.md says"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def create_postgres_database(name: str) -> str:
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def make_settings(database_url: str, var_dir: Path, **extra: str) -> Settings:
    environ = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "VAR_DIR": str(var_dir),
        "BASE_URL": "http://testserver",
        # Tests book many times from one client; tests/registrations/test_floods.py turns
        # the limits on.
        "BOOKING_RATE_LIMIT": "off",
        "BOOKING_RATE_LIMIT_PER_EMAIL": "off",
        **extra,
    }
    return Settings.from_environ(environ)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database URL of each kind, migrated to head once for the session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        # One database per test process, so parallel runs never drop each other's.
        try:
            url = await create_postgres_database(f"lunchkafe_test_{os.getpid()}")
        except (OSError, Exception) as exc:  # asyncpg raises several kinds on no server
            require_service("PostgreSQL", str(exc)[:200])
    services = Services.build(make_settings(url, tmp_path_factory.mktemp("var")))
    await upgrade(services.engine)
    await services.close()
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(url)


@pytest.fixture
async def services(migrated_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services on a clean database: every table emptied before the test."""
    built = Services.build(make_settings(migrated_url, tmp_path))
    async with built.engine.begin() as conn:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if built.settings.is_sqlite:
            for table in tables:
                await conn.execute(text(f'DELETE FROM "{table}"'))
        else:
            quoted = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app's own client, in-process."""
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def uvicorn_serving(services: Services, **config: Any) -> AsyncIterator[str]:
    """The app behind a real uvicorn on loopback, on the port its BASE_URL names; yields
    that URL once the server listens (links and redirects come from BASE_URL alone)."""
    port = urlsplit(services.settings.base_url).port
    assert port is not None, "BASE_URL must name the port to serve on"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services.settings, services),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **config,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, f"uvicorn did not start on port {port}"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live_server(services: Services) -> AsyncIterator[str]:
    """The app behind a real uvicorn on loopback; yields its base URL (also its BASE_URL)."""
    settings = dataclasses.replace(services.settings, base_url=f"http://127.0.0.1:{free_port()}")
    async with uvicorn_serving(
        dataclasses.replace(services, settings=settings), backlog=1024
    ) as url:
        yield url


@asynccontextmanager
async def flushed_redis(url: str) -> AsyncIterator[Redis]:
    """A client of the machine's Redis on the database in `url`, emptied before and after.

    Each test module that needs Redis has a database number of its own, so they never meet.
    """
    client = Redis.from_url(url)
    try:
        try:
            await client.ping()
        except Exception as exc:  # redis raises several kinds when nothing answers
            require_service("Redis", str(exc)[:200])
        await client.flushdb()
        yield client
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[Any]) -> None:
    # Keep each database's tests together, so one session-scoped database is live at a time.
    items.sort(key=lambda item: "postgresql" in item.nodeid)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
