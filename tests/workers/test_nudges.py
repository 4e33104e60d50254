"""Prompt mail while the worker is busy (issue 10 item 7).

A real arq worker, built from the production WorkerSettings, runs on a redis-server of the
test's own and delivers through an SMTP server that takes 150 ms over each message. Bookings
come in bursts whose members land at every point of a delivery run: before its claim, just
after it, while it sends, as it ends. Each confirmation must reach the server within a few
seconds of its commit. The worker runs without its minute sweep (the safety net for a lost
nudge), so only the nudges deliver: a nudge refused while a run is past its last claim shows
as a confirmation that does not come.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import create_worker

from foundation.services import Services
from tests.conftest import Mail, MailFactory, SmtpServer
from tests.factories import address, book, make_event
from tests.processes import RedisServer, eventually
from workers.jobs import job_context
from workers.nudges import deliver_nudged, job_id, nudge_delivery
from workers.runner import start_job_runner
from workers.settings import WorkerSettings

# arq 0.28's Worker.close() calls redis-py's deprecated close(); not ours to change.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

RELAY_SECONDS = 0.15  # the SMTP server's time over each message's DATA
PROMPT = 3.0  # seconds from a booking's commit to its confirmation at the server, at most
ROUNDS = 22


@pytest.fixture
def busy_relay(
    mail_factory: MailFactory, start_server: Callable[..., SmtpServer], own_redis: RedisServer
) -> Mail:
    own_redis.start()
    return mail_factory(start_server(data_delay=RELAY_SECONDS), REDIS_URL=own_redis.url)


@contextlib.asynccontextmanager
async def arq_worker(services: Services) -> AsyncIterator[None]:
    """The production WorkerSettings running until the block ends, without the cron sweep."""
    assert services.settings.redis_url is not None
    worker = create_worker(
        cast(Any, WorkerSettings),  # arq types settings as its own base class
        redis_settings=RedisSettings.from_dsn(services.settings.redis_url),
        cron_jobs=[],
        handle_signals=False,
        # on_startup builds the worker's own Services (engine, pool) from these settings.
        ctx={"settings": services.settings},
    )
    running = asyncio.create_task(worker.main())
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()


async def test_every_confirmation_reaches_the_server_promptly_however_bookings_meet_runs(
    busy_relay: Mail,
) -> None:
    services = busy_relay.services
    recorder = busy_relay.server.recorder
    event = await make_event(services, capacity=200)
    rng = random.Random(10_7)  # a fixed schedule, the same on every run
    committed: dict[str, float] = {}  # address -> monotonic time just before its booking
    arrived: dict[str, float] = {}  # address -> monotonic time the server had its message

    def look() -> None:
        for envelope in list(recorder.messages):
            for to in envelope.rcpt_tos:
                arrived.setdefault(to.lower(), time.monotonic())

    async def delivered(burst: list[str]) -> None:
        async def all_there() -> bool:
            look()
            return all(a in arrived for a in burst)

        await eventually(
            all_there,
            within=committed[burst[-1]] + PROMPT - time.monotonic(),
            what=f"confirmations of {burst} at the server within {PROMPT} s of the booking",
            every=0.005,
        )

    stop = await start_job_runner(services)  # the web process's nudges
    n = 0
    try:
        async with arq_worker(services):
            for _ in range(ROUNDS):
                burst: list[str] = []
                for position in range(rng.choice((2, 2, 2, 3))):
                    if position:
                        # Mostly while the run the first booking started is claiming (the
                        # booking itself takes tens of ms); else anywhere up to past the send
                        # of one message.
                        short = rng.random() < 0.75
                        await asyncio.sleep(rng.uniform(0, 0.035 if short else 0.3))
                    n += 1
                    burst.append(address(n).lower())
                    committed[burst[-1]] = time.monotonic()
                    assert (await book(services, event.id, n)).confirmed
                # Quiet until this burst is delivered (a lost nudge is not rescued by a later
                # booking), then a pause that may end just as the last run ends.
                await delivered(burst)
                await asyncio.sleep(rng.uniform(0.0, 0.2))
    finally:
        await stop()
    waits = {a: arrived[a] - committed[a] for a in committed}
    assert max(waits.values()) < PROMPT, waits
    assert len(recorder.messages) == n  # each confirmation once


async def test_nudges_fold_into_one_queued_job_per_round(
    services: Services, own_redis: RedisServer
) -> None:
    own_redis.start()
    pool = await create_pool(RedisSettings.from_dsn(own_redis.url))
    try:
        for _ in range(5):  # a burst before any worker looks
            await nudge_delivery(pool)
        assert await pool.zrange(pool.default_queue_name, 0, -1) == [job_id(0).encode()]

        # That job starts (its id still held, as while arq runs it) and claims: a nudge now
        # may come after its last claim, so it queues one job more, and only one.
        assert await deliver_nudged({**job_context(services), "redis": pool}) == {
            "sent": 0,
            "retried": 0,
            "failed": 0,
            "skipped": 0,
        }
        for _ in range(5):
            await nudge_delivery(pool)
        queued = await pool.zrange(pool.default_queue_name, 0, -1)
        assert sorted(queued) == [job_id(0).encode(), job_id(1).encode()]
    finally:
        await pool.aclose()
