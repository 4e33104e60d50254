"""The arq worker on a real Redis: nudged by the web process, and safe when Redis is not.

Each test runs a real `arq.worker.Worker` in burst mode (it stops when the queue is empty)
built from `workers.settings.WorkerSettings`, against Redis database 5, flushed first.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, create_worker

from foundation.services import Services
from mail.models import OutboxStatus
from tests.conftest import Mail, MailFactory, require_service
from tests.factories import address, book, make_event, outbox, outbox_ids
from tests.ports import free_port
from workers.jobs import job_context, sweep
from workers.runner import start_job_runner
from workers.settings import WorkerSettings

REDIS_URL = "redis://127.0.0.1:6379/5"

# arq 0.28's Worker.close() calls redis-py's deprecated close(); not ours to change.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


@pytest.fixture
async def redis() -> AsyncIterator[ArqRedis]:
    settings = dataclasses.replace(RedisSettings.from_dsn(REDIS_URL), conn_retries=0)
    try:
        pool = await create_pool(settings)
    except OSError as exc:  # redis-py's ConnectionError is an OSError too
        require_service("Redis", f"{REDIS_URL}: {exc}")
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


@pytest.fixture
def queued_mail(mail_factory: MailFactory, redis: ArqRedis) -> Mail:
    return mail_factory(REDIS_URL=REDIS_URL)


def burst_worker(services: Services, *, with_sweep: bool) -> Worker:
    """The production WorkerSettings, in burst mode, polling fast; cron only if asked."""
    # CronJob remembers its next run, so each worker gets its own copy of the sweep.
    crons = [copy.copy(job) for job in WorkerSettings.cron_jobs] if with_sweep else []
    for job in crons:
        job.next_run = None
    return create_worker(
        cast(Any, WorkerSettings),  # arq types settings as its own base class
        redis_settings=RedisSettings.from_dsn(REDIS_URL),
        cron_jobs=crons,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
        # on_startup builds the worker's own Services (engine, pool) from these settings.
        ctx={"settings": services.settings},
    )


async def run(worker: Worker) -> int:
    try:
        return await worker.run_check()
    finally:
        await worker.close()


async def test_a_booking_nudges_the_worker_which_delivers(
    queued_mail: Mail, redis: ArqRedis
) -> None:
    services = queued_mail.services
    stop = await start_job_runner(services)
    try:
        event = await make_event(services)
        for n in (1, 2, 3):
            await book(services, event.id, n)
    finally:
        await stop()
    assert await redis.zcard("arq:queue") >= 1  # nudged, nothing delivered yet
    assert queued_mail.messages == []

    assert await run(burst_worker(services, with_sweep=False)) >= 1
    for n in (1, 2, 3):
        assert str(queued_mail.only(address(n))["Subject"]).startswith("Bekräftad plats:")
    assert {r.status for r in await outbox(services)} == {OutboxStatus.SENT}


async def test_redis_flushed_mid_run_loses_nothing(queued_mail: Mail, redis: ArqRedis) -> None:
    services = queued_mail.services
    stop = await start_job_runner(services)
    try:
        event = await make_event(services, capacity=2)
        for n in (1, 2, 3):
            await book(services, event.id, n)
    finally:
        await stop()
    assert await redis.zcard("arq:queue") >= 1
    await redis.flushdb()  # every nudge is gone

    # Only the cron sweep (run at start-up) can find the rows now.
    assert await run(burst_worker(services, with_sweep=True)) >= 1
    rows = await outbox(services)
    assert len(rows) == 3
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert outbox_ids(queued_mail.messages) == Counter({r.id: 1 for r in rows})

    # Another sweep, and a stray nudge, later: nothing is sent twice.
    await redis.enqueue_job("deliver_mail")
    assert await run(burst_worker(services, with_sweep=True)) >= 1
    assert await sweep(job_context(services)) == {
        "planned": 0,
        "sent": 0,
        "retried": 0,
        "failed": 0,
        "skipped": 0,
    }
    assert outbox_ids(queued_mail.messages) == Counter({r.id: 1 for r in rows})


async def test_booking_works_while_redis_is_unreachable(
    mail_factory: MailFactory, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()
    mail = mail_factory(REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    caplog.set_level(logging.INFO)
    stop = await start_job_runner(mail.services)
    try:
        event = await make_event(mail.services)
        result = await book(mail.services, event.id, 1)
    finally:
        await stop()

    assert result.confirmed
    warnings = [r.getMessage() for r in caplog.records if r.name == "lunchkafe.workers"]
    assert any("Redis unreachable at start-up" in w for w in warnings), warnings
    assert any("could not nudge the mail worker" in w for w in warnings), warnings
    # No connection retry loop: arq's create_pool would sleep a second per retry, per booking.
    assert not [r for r in caplog.records if "retries remaining" in r.getMessage()]

    # The row waits in the outbox; the worker's sweep delivers it once Redis is back.
    (row,) = await outbox(mail.services)
    assert row.status == OutboxStatus.PENDING
    report: dict[str, Any] = await sweep(job_context(mail.services))
    assert report["sent"] == 1
    assert str(mail.only(address(1))["Subject"]).startswith("Bekräftad plats:")
