"""The worker rides out a Redis outage: bookings succeed, mail keeps arriving, arq resumes.

The worker runs as the Procfile says, in a process of its own, against a redis-server of the
test's own (the machine's Redis on 6379 is never stopped), a real aiosmtpd server and
PostgreSQL, as in production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings

from lunchkafe.app import create_app
from tests.conftest import Mail, MailFactory
from tests.factories import address, make_event
from tests.processes import RedisServer, WorkerProcess, eventually
from workers.runner import start_job_runner

# arq's own exit came 6 s after Redis went away; the worker must outlast that by far.
ARQ_GAVE_UP_AFTER = 6.0


@pytest.fixture
def mail(mail_factory: MailFactory, own_redis: RedisServer) -> Mail:
    built = mail_factory(REDIS_URL=own_redis.url)
    if built.services.settings.is_sqlite:
        pytest.skip("Redis and a separate worker process run on PostgreSQL, as in production")
    return built


@pytest.fixture
async def site(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    """The web app, nudging the worker through Redis after each booking, as in production."""
    app = create_app(mail.services.settings, mail.services)
    stop = await start_job_runner(mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await stop()


async def book(site: httpx.AsyncClient, event_id: int, n: int) -> None:
    response = await site.post(
        f"/api/events/{event_id}/registrations",
        json={"name": f"Person {n}", "email": address(n), "consent": True},
    )
    assert response.status_code == 202, response.text


async def arrived(mail: Mail, n: int, *, within: float) -> float:
    async def got() -> bool:
        return len(mail.to(address(n))) == 1

    return await eventually(got, within=within, what=f"the confirmation to person {n}")


async def ready(site: httpx.AsyncClient, expect: int = 200) -> dict[str, Any]:
    """The readiness report; with Redis away it is a 503 (issue 13), the report the same."""
    response = await site.get("/readyz")
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def arq_runs_jobs(redis: RedisServer, *, within: float) -> float:
    """Enqueue a delivery job straight into Redis and wait until a worker has taken it."""
    pool = await create_pool(RedisSettings.from_dsn(redis.url))
    try:
        job_id = f"probe:{time.monotonic_ns()}"
        assert await pool.enqueue_job("deliver_mail", _job_id=job_id) is not None

        async def taken() -> bool:
            return await pool.zscore("arq:queue", job_id) is None

        return await eventually(taken, within=within, what="arq to run a queued job")
    finally:
        await pool.aclose()


async def worker_seen(site: httpx.AsyncClient, *, reaches_redis: bool) -> bool:
    """For `eventually`: whether /readyz answers as it should and reports the worker seen
    lately and reaching Redis or not. Another status (a 503 while the worker reconnects)
    is "not yet", not a failure."""
    response = await site.get("/readyz")
    if response.status_code != (200 if reaches_redis else 503):
        return False
    worker = response.json()["worker"]
    seen = worker["last_seen_seconds_ago"]
    return seen is not None and seen < 15 and worker["reaches_redis"] is reaches_redis


async def test_the_worker_rides_out_a_redis_outage_and_resumes(
    mail: Mail,
    site: httpx.AsyncClient,
    own_redis: RedisServer,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    own_redis.start()
    worker = start_worker(mail.services.settings)
    event = await make_event(mail.services)
    await arq_runs_jobs(own_redis, within=20)
    await book(site, event.id, 1)
    await arrived(mail, 1, within=10)

    own_redis.stop()
    stopped = time.monotonic()
    await book(site, event.id, 2)  # the booking succeeds; its nudge is lost
    await arrived(mail, 2, within=15)  # delivered from the outbox all the same
    body = await ready(site, 503)
    assert body["status"] == "redis_unreachable"
    assert body["redis"] == {"reachable": False}
    assert body["database"] == {"reachable": True}
    assert any("Redis" in problem for problem in body["problems"])

    # Well past the moment arq gave up, the worker is still there and still delivering.
    await asyncio.sleep(max(0.0, 2 * ARQ_GAVE_UP_AFTER - (time.monotonic() - stopped)))
    assert worker.alive, worker.log
    await book(site, event.id, 3)
    await arrived(mail, 3, within=15)
    await eventually(
        lambda: worker_seen(site, reaches_redis=False), within=15, what="the degraded heartbeat"
    )
    assert (await ready(site, 503))["mail"]["due"] == 0

    own_redis.start()  # same port, empty: the queue's jobs are gone
    await arq_runs_jobs(own_redis, within=20)
    await eventually(
        lambda: worker_seen(site, reaches_redis=True), within=15, what="a heartbeat with Redis"
    )
    body = await ready(site)
    assert body["redis"] == {"reachable": True}
    await book(site, event.id, 4)
    await arrived(mail, 4, within=10)
    assert worker.alive
    assert all(len(mail.to(address(n))) == 1 for n in (1, 2, 3, 4))

    # Stopping is clean, and nothing of the attendees was written to the worker's log.
    assert worker.terminate() == 0
    assert "kommun.example.se" not in worker.log
    assert "Person " not in worker.log


async def test_a_worker_started_while_redis_is_down_waits_for_it_and_delivers(
    mail: Mail,
    site: httpx.AsyncClient,
    own_redis: RedisServer,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker(mail.services.settings)  # Redis is not running yet
    event = await make_event(mail.services)
    await book(site, event.id, 1)
    await arrived(mail, 1, within=20)

    await asyncio.sleep(max(0.0, 2 * ARQ_GAVE_UP_AFTER - (time.monotonic() - worker.started)))
    assert worker.alive, worker.log
    await book(site, event.id, 2)
    await arrived(mail, 2, within=15)
    await eventually(
        lambda: worker_seen(site, reaches_redis=False), within=15, what="the degraded heartbeat"
    )
    assert (await ready(site, 503))["redis"] == {"reachable": False}

    own_redis.start()
    await arq_runs_jobs(own_redis, within=20)
    await book(site, event.id, 3)
    await arrived(mail, 3, within=10)
    assert worker.alive, worker.log
    assert worker.terminate() == 0
