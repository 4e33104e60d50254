"""While the database is down, pages and the API answer 503 with Retry-After, the public feed
serves its last copy, `/readyz` says unavailable and `/healthz` stays up; once the database
is back, pages answer again.

The PostgreSQL server is the test's own (initdb on a free port, stopped and started at will),
never the machine's on 5432.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from foundation.services import Services
from lunchkafe.app import create_app
from lunchkafe.migrate import upgrade
from tests.conftest import make_settings, require_service
from tests.factories import make_event
from tests.ports import free_port

BINARIES = Path("/usr/lib/postgresql")


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(BINARIES.glob(f"*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        require_service("PostgreSQL's server binaries", f"{name} is not installed")
    assert found is not None
    return found


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class OwnPostgres:
    """A PostgreSQL server of the test's own, in a temporary directory, on a free port."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([_pg_binary("pg_ctl"), "-D", str(self.data), "-s", *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        self._ctl("-w", "-l", str(self.data / "server.log"), "-o", options, "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A running PostgreSQL server of the test's own; stopped (for good) afterwards."""
    # Not under pytest's tmp_path, which the server's user (postgres, as root) cannot enter.
    data = Path(tempfile.mkdtemp(prefix="lunchkafe-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    subprocess.run(
        _as_postgres(
            [_pg_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = OwnPostgres(data, free_port())
    server.start()
    yield server
    subprocess.run(
        _as_postgres([_pg_binary("pg_ctl"), "-D", str(data), "-s", "-m", "immediate", "stop"]),
        capture_output=True,
        timeout=60,
    )
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def outage_site(
    own_postgres: OwnPostgres, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    services = Services.build(make_settings(own_postgres.url, tmp_path / "var"))
    await upgrade(services.engine)
    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, services
    await services.close()


async def test_pages_say_503_and_feeds_serve_their_copy_while_the_database_is_down(
    outage_site: tuple[httpx.AsyncClient, Services], own_postgres: OwnPostgres
) -> None:
    client, services = outage_site
    event = await make_event(services, title="Lunchkafé om förenkling")
    feed = await client.get("/calendar.ics")
    assert feed.status_code == 200
    assert "Lunchkafé om förenkling" in feed.text

    own_postgres.stop()
    services.feed_memo.forget()  # as a second later: the feed must ask the database

    page = await client.get(f"/events/{event.id}")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "30"
    assert "tillfälligt otillgänglig" in page.text
    assert "Traceback" not in page.text

    api = await client.get(f"/api/v1/events/{event.id}")
    assert api.status_code == 503
    assert api.headers["retry-after"] == "30"
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["code"] == "unavailable"
    assert api.json()["retry_after"] == 30

    stale = await client.get("/calendar.ics")
    assert stale.status_code == 200
    assert stale.content == feed.content
    assert stale.headers["etag"] == feed.headers["etag"]

    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert (await client.get("/healthz")).status_code == 200

    own_postgres.start()
    # The pool checks each connection before use (pool_pre_ping): the next page works.
    assert (await client.get(f"/events/{event.id}")).status_code == 200
