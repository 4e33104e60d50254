"""A worker killed mid-batch (kill -9) costs at most the messages on the wire, and another
worker takes its claimed rows over within seconds, not after a five-minute lease.

The workers run as the Procfile says, in processes of their own, against a real aiosmtpd
server that counts what it accepts, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import Audience, OutboxMessage, OutboxStatus
from notices.delivery import LEASE
from registrations.messaging import send_message
from tests.conftest import Mail as MailReader
from tests.conftest import SmtpServer, make_settings
from tests.factories import add_confirmed, make_event, outbox, outbox_ids
from tests.processes import RedisServer, WorkerProcess, eventually
from workers.jobs import DELIVER_EVERY

MESSAGES = 300


@pytest.fixture
def slow_server(start_server: Callable[..., SmtpServer]) -> SmtpServer:
    """A server that takes a moment over each message, as a real relay does, so a worker
    can be killed in the middle of a batch."""
    return start_server(data_delay=0.02)


async def claimed_rows(services: Services) -> set[int]:
    """Rows some worker holds right now (sending, lease not run out)."""
    async with services.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.next_attempt_at > utcnow(),
            )
        )
        return set(rows.all())


async def test_a_killed_worker_costs_at_most_the_one_message_on_the_wire(
    services: Services,
    slow_server: SmtpServer,
    start_worker: Callable[..., WorkerProcess],
    own_redis: RedisServer,
    tmp_path: Path,
) -> None:
    """The default, one SMTP connection: at most one message twice (issue 7, item 4)."""
    await kill_mid_batch(services, slow_server, start_worker, own_redis, tmp_path, 1)


@pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)  # the bound is the same
async def test_with_more_connections_a_killed_worker_costs_at_most_one_per_connection(
    services: Services,
    slow_server: SmtpServer,
    start_worker: Callable[..., WorkerProcess],
    own_redis: RedisServer,
    tmp_path: Path,
) -> None:
    await kill_mid_batch(services, slow_server, start_worker, own_redis, tmp_path, 4)


async def kill_mid_batch(
    services: Services,
    slow_server: SmtpServer,
    start_worker: Callable[..., WorkerProcess],
    own_redis: RedisServer,
    tmp_path: Path,
    connections: int,
) -> None:
    own_redis.start()  # as in production; the workers find the rows by their sweep
    settings = make_settings(
        services.settings.database_url,
        tmp_path,
        SMTP_URL=f"smtp://127.0.0.1:{slow_server.port}?timeout=5",
        REDIS_URL=own_redis.url,
        SMTP_CONNECTIONS=str(connections),
    )
    received = MailReader(services, slow_server)
    event = await make_event(services, capacity=MESSAGES)
    await add_confirmed(services, event.id, range(1, MESSAGES + 1))
    async with services.transaction() as session:
        await send_message(
            session, event.id, subject="Viktigt", body="Läs detta.", audience=Audience.CONFIRMED
        )

    first = start_worker(settings)

    async def some_arrived() -> bool:
        return len(slow_server.recorder.messages) >= 60

    await eventually(some_arrived, within=60, what="the first worker to send 60 messages")
    first.kill()
    killed_at = utcnow()
    orphaned = await claimed_rows(services)
    assert orphaned, "the first worker held no claim when it was killed"
    assert len(slow_server.recorder.messages) < MESSAGES

    second = start_worker(settings)

    async def all_sent() -> bool:
        rows = await outbox(services)
        return all(r.status == OutboxStatus.SENT for r in rows)

    await eventually(all_sent, within=60, what="every message to be sent")
    rows = {r.id: r for r in await outbox(services)}
    assert len(rows) == MESSAGES

    # Every message arrived; at most the ones on the wire when the worker died arrived twice.
    counts = outbox_ids(received.messages)
    assert set(counts) == set(rows)
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= connections, counts.most_common(connections + 1)

    # The dead worker's claims were taken over once its short lease ran out, not minutes later.
    taken_over = max(_sent_at(rows[i]) for i in orphaned) - killed_at
    limit = LEASE.total_seconds() + DELIVER_EVERY + 5
    assert taken_over.total_seconds() < limit, taken_over

    assert second.terminate() == 0
    for worker in (first, second):
        assert "kommun.example.se" not in worker.log  # no recipient in the logs


def _sent_at(row: OutboxMessage) -> datetime:
    assert row.sent_at is not None
    return row.sent_at
