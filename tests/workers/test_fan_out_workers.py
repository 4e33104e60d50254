"""Two workers share one fan-out: every message reaches the relay exactly once, and both
take part (issue 11 item 4).

The workers run as the Procfile says (arq on a Redis of the test's own), in processes of
their own, against a real aiosmtpd server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from foundation.services import Services
from mail.models import Audience, OutboxStatus
from registrations.messaging import send_message
from tests.conftest import Mail as MailReader
from tests.conftest import SmtpServer, make_settings
from tests.factories import add_confirmed, make_event, outbox, outbox_ids
from tests.processes import RedisServer, WorkerProcess, eventually

MESSAGES = 120
# make_msgid writes the sending process's id: <time.pid.random.outbox{row}@domain>. A long one is
# folded onto a continuation line (legal, RFC 5322 3.2.2), so it is searched for, not matched.
_SENDER_PID = re.compile(r"<\d+\.(\d+)\.\d+\.outbox\d+@")


async def test_two_workers_deliver_a_fan_out_exactly_once_between_them(
    services: Services,
    start_server: Callable[..., SmtpServer],
    start_worker: Callable[..., WorkerProcess],
    own_redis: RedisServer,
    tmp_path: Path,
) -> None:
    # A relay taking a moment over each message, as a real one does, so neither worker
    # can finish the fan-out before the other has started.
    server = start_server(data_delay=0.01)
    own_redis.start()
    settings = make_settings(
        services.settings.database_url,
        tmp_path,
        SMTP_URL=f"smtp://127.0.0.1:{server.port}?timeout=5",
        REDIS_URL=own_redis.url,
    )
    event = await make_event(services, capacity=MESSAGES)
    await add_confirmed(services, event.id, range(1, MESSAGES + 1))
    workers = [start_worker(settings), start_worker(settings)]
    async with services.transaction() as session:
        await send_message(
            session, event.id, subject="Viktigt", body="Läs detta.", audience=Audience.CONFIRMED
        )

    async def all_sent() -> bool:
        rows = await outbox(services)
        return all(r.status == OutboxStatus.SENT for r in rows)

    await eventually(all_sent, within=90, what="every message to be sent")
    rows = await outbox(services)
    assert len(rows) == MESSAGES
    assert {r.attempts for r in rows} == {1}
    received = MailReader(services, server).messages
    assert outbox_ids(received) == Counter({r.id: 1 for r in rows})
    senders = Counter(
        match.group(1)
        for message in received
        if (match := _SENDER_PID.search(str(message["Message-ID"])))
    )
    assert sum(senders.values()) == MESSAGES
    assert len(senders) == 2, senders  # both workers sent part of it
    for worker in workers:
        assert worker.terminate() == 0
        assert "kommun.example.se" not in worker.log  # no recipient in the logs
