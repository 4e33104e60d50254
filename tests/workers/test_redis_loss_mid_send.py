"""Losing Redis while a delivery job is on the wire sends nothing twice.

Delivery needs only the database and SMTP: when Redis goes away under arq, the job already
sending finishes instead of being cut off (which would hand its message back to be sent again).
The worker runs in this process (with GRACE shortened, so the old cut-off would show within a
second) against a redis-server of the test's own, a real aiosmtpd server held in DATA until the
test lets go, and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from tests.conftest import MailFactory, SmtpServer
from tests.factories import address, book, make_event
from tests.processes import RedisServer, eventually
from workers import run
from workers.jobs import deliver_mail, job_context


def hold_data(server: SmtpServer) -> tuple[threading.Event, threading.Event]:
    """Make the server sit in DATA until `release` is set; `entered` tells a send began."""
    entered, release = threading.Event(), threading.Event()
    answer = server.recorder.handle_DATA

    async def held(smtp: Any, session: Any, envelope: Any) -> str:
        entered.set()
        await asyncio.to_thread(release.wait)
        return await answer(smtp, session, envelope)

    server.recorder.handle_DATA = held  # type: ignore[method-assign, assignment]
    return entered, release


async def test_a_message_on_the_wire_when_redis_goes_away_arrives_once(
    mail_factory: MailFactory,
    start_server: Any,
    own_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server: SmtpServer = start_server()
    mail = mail_factory(
        server, REDIS_URL=own_redis.url, SMTP_URL=f"smtp://127.0.0.1:{server.port}?timeout=60"
    )
    if mail.services.settings.is_sqlite:
        pytest.skip("Redis and a worker beside the test's own deliveries run on PostgreSQL")
    entered, release = hold_data(server)
    monkeypatch.setattr(run, "GRACE", 1.0)  # the old cut-off came GRACE after the loss
    monkeypatch.setattr(run, "HEARTBEAT_EVERY", 0.2)  # notice the loss at once
    monkeypatch.setattr(run, "DELIVER_EVERY", 3600.0)  # only arq sends while Redis answers
    own_redis.start()
    worker = run.WorkerProcess(mail.services)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _true(worker.arq_running), within=20, what="arq to start")
        event = await make_event(mail.services)
        await book(mail.services, event.id, 1)
        pool = await create_pool(RedisSettings.from_dsn(own_redis.url))
        try:
            await pool.enqueue_job("deliver_mail")
        finally:
            await pool.aclose()
        await eventually(lambda: _true(entered.is_set()), within=20, what="arq to start sending")

        own_redis.stop()  # mid-send
        await eventually(lambda: _true(not worker.arq_running), within=15, what="the loss seen")
        await asyncio.sleep(run.GRACE + 1.0)
        release.set()
        await eventually(
            lambda: _true(len(mail.to(address(1))) >= 1), within=15, what="the confirmation"
        )
        await asyncio.sleep(1.0)  # the job marks the row sent
        await deliver_mail(job_context(mail.services))  # another worker looks at the outbox
        assert len(mail.to(address(1))) == 1
        assert not running.done()
    finally:
        release.set()
        worker.stop.set()
        async with asyncio.timeout(10):
            await running


async def _true(value: bool) -> bool:
    return value
