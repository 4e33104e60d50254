"""A worker stopped with SIGTERM in the middle of a batch (as every deploy and scale-down
does) lets the message on the wire finish, hands its other claimed rows back and exits 0;
the next worker's delivery sends the rest at once, not after a lease. Every message arrives
exactly once: none lost, none twice.

The stopped worker runs as the Procfile says, in a process of its own, against a real
aiosmtpd server that takes a moment over each message, on PostgreSQL, where production runs
workers (SQLite has the web process's own runner, which stops the same way:
workers/runner.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foundation.services import Services
from mail.models import Audience, OutboxMessage, OutboxStatus
from notices.delivery import deliver_due
from registrations.messaging import send_message
from tests.conftest import Mail as MailReader
from tests.conftest import SmtpServer, make_settings
from tests.factories import add_confirmed, make_event, outbox, outbox_ids
from tests.processes import RedisServer, WorkerProcess, eventually
from workers.run import GRACE

MESSAGES = 60  # more than one batch (50): some rows are claimed, some not yet


async def in_status(services: Services, status: OutboxStatus) -> int:
    async with services.transaction() as session:
        found = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
        )
    return int(found or 0)


@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
async def test_sigterm_mid_batch_loses_nothing_and_sends_nothing_twice(
    services: Services,
    start_server: Callable[..., SmtpServer],
    start_worker: Callable[..., WorkerProcess],
    own_redis: RedisServer,
    tmp_path: Path,
) -> None:
    server = start_server(data_delay=0.03)  # a relay that takes a moment over each message
    own_redis.start()
    settings = make_settings(
        services.settings.database_url,
        tmp_path,
        SMTP_URL=f"smtp://127.0.0.1:{server.port}?timeout=5",
        REDIS_URL=own_redis.url,
    )
    received = MailReader(services, server)
    event = await make_event(services, capacity=MESSAGES)
    await add_confirmed(services, event.id, range(1, MESSAGES + 1))
    async with services.transaction() as session:
        await send_message(
            session, event.id, subject="Viktigt", body="Läs detta.", audience=Audience.CONFIRMED
        )

    first = start_worker(settings)

    async def some_arrived() -> bool:
        return len(server.recorder.messages) >= 10

    await eventually(some_arrived, within=60, what="the first worker to send 10 messages")
    asked = time.monotonic()
    assert first.terminate() == 0, first.log  # SIGTERM, as a supervisor stops it
    took = time.monotonic() - asked
    assert took < GRACE, took

    # Stopped cleanly: nothing left claimed, what it sent is recorded, the rest waits.
    arrived = len(server.recorder.messages)
    assert arrived < MESSAGES, "the batch had ended before the stop: nothing was tested"
    assert await in_status(services, OutboxStatus.SENDING) == 0
    assert await in_status(services, OutboxStatus.SENT) == arrived
    assert await in_status(services, OutboxStatus.PENDING) == MESSAGES - arrived
    assert "worker stopped" in first.log

    # The next worker (the same delivery, in this process) finds the handed-back rows due.
    successor = Services.build(settings)
    try:
        report = await deliver_due(successor)
    finally:
        await successor.close()
    assert report.sent == MESSAGES - arrived
    assert await in_status(services, OutboxStatus.SENT) == MESSAGES
    counts = outbox_ids(received.messages)
    assert set(counts) == {row.id for row in await outbox(services)}
    assert max(counts.values()) == 1, counts.most_common(3)  # none twice
    # A handed-back row's attempt that never happened is not counted.
    assert {row.attempts for row in await outbox(services)} == {1}
