"""`/healthz` and `/readyz`: what an operator's probe sees, on a real database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from mail.heartbeat import beat
from tests.conftest import make_settings
from tests.factories import book, make_event
from tests.processes import RedisServer
from workers.jobs import record_heartbeat


async def test_ready_when_a_worker_is_seen_and_nothing_waits(
    client: httpx.AsyncClient, services: Services
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["problems"] == ["no mail worker has been seen"]
    assert body["redis"] is None  # no REDIS_URL: nothing to reach
    assert response.headers["cache-control"] == "no-store"

    await record_heartbeat(services, worker="host:1", started_at=utcnow(), redis_ok=True)
    body = (await client.get("/readyz")).json()
    assert body["status"] == "ok", body
    assert body["database"] == {"reachable": True}
    assert body["mail"] == {"due": 0, "oldest_due_seconds": None}
    assert 0 <= body["worker"]["last_seen_seconds_ago"] < 5
    assert body["worker"]["reaches_redis"] is None  # no REDIS_URL: null, as `redis` is


async def test_mail_waiting_shows_as_a_backlog(
    client: httpx.AsyncClient, services: Services
) -> None:
    event = await make_event(services)
    for n in (1, 2):
        await book(services, event.id, n)
    body = (await client.get("/readyz")).json()
    assert body["mail"]["due"] == 2
    assert 0 <= body["mail"]["oldest_due_seconds"] < 60


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1
        "sqlite+aiosqlite:////nonexistent-directory/lunchkafe.db",
    ],
)
async def test_without_a_database_ready_says_503_and_alive_says_200(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    built = Services.build(settings)
    app = create_app(settings, built)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            ready = await c.get("/readyz")
            alive = await c.get("/healthz")
    finally:
        await built.close()
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["database"] == {"reachable": False}
    assert ready.json()["redis"] == {"reachable": False}
    assert alive.status_code == 200
    assert alive.json()["status"] == "unavailable"


async def test_with_redis_a_worker_silent_for_two_minutes_is_not_ready(
    services: Services, tmp_path: Path, own_redis: RedisServer
) -> None:
    """With REDIS_URL set, mail is the worker's job: no heartbeat for two minutes is a 503
    (issue 13), and a worker seen lately makes it 200."""
    own_redis.start()
    settings = make_settings(services.settings.database_url, tmp_path, REDIS_URL=own_redis.url)
    built = Services.build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, built))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            never = await c.get("/readyz")
            stopped_at = utcnow() - timedelta(minutes=2, seconds=5)
            async with built.transaction() as session:
                await beat(
                    session, worker="host:1", started_at=stopped_at, redis_ok=True, now=stopped_at
                )
            silent = await c.get("/readyz")
            await record_heartbeat(built, worker="host:2", started_at=utcnow(), redis_ok=True)
            seen = await c.get("/readyz")
    finally:
        await built.close()
    for answer in (never, silent):
        assert answer.status_code == 503
        assert answer.json()["status"] == "worker_stopped"
        assert answer.json()["database"] == {"reachable": True}
    assert "over two minutes" in " ".join(silent.json()["problems"])
    assert seen.status_code == 200
    assert seen.json()["status"] == "ok"


async def test_with_redis_configured_redis_away_is_not_ready_and_alive_stays_200(
    services: Services, tmp_path: Path, own_redis: RedisServer
) -> None:
    """Issue 13: readiness is the database, Redis when configured, and a worker seen within
    two minutes. A redis-server of the test's own is stopped: /readyz says 503 and why,
    /healthz stays 200; once it answers again (the worker's heartbeat is there), 200."""
    own_redis.start()
    settings = make_settings(services.settings.database_url, tmp_path, REDIS_URL=own_redis.url)
    built = Services.build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, built))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await record_heartbeat(built, worker="host:1", started_at=utcnow(), redis_ok=True)
            before = await c.get("/readyz")
            own_redis.stop()
            away = await c.get("/readyz")
            alive = await c.get("/healthz")
            own_redis.start()
            await record_heartbeat(built, worker="host:1", started_at=utcnow(), redis_ok=True)
            back = await c.get("/readyz")
    finally:
        await built.close()
    assert (before.status_code, before.json()["status"]) == (200, "ok")
    assert away.status_code == 503
    assert away.json()["status"] == "redis_unreachable"
    assert away.json()["redis"] == {"reachable": False}
    assert away.json()["database"] == {"reachable": True}
    assert any("Redis" in problem for problem in away.json()["problems"])
    assert alive.status_code == 200
    assert alive.json()["redis"] == {"reachable": False}
    assert (back.status_code, back.json()["status"]) == (200, "ok")
