"""A live worker keeps its claim however slow the relay: the short lease is renewed while it
sends, so a second worker arriving after the lease's first term sends nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mail.models import Audience, OutboxStatus
from notices.delivery import LEASE, DeliveryReport
from registrations.messaging import send_message
from tests.conftest import MailFactory, SmtpServer
from tests.factories import add_confirmed, make_event, outbox, outbox_ids

MESSAGES = 12
PER_MESSAGE = 1.0  # seconds the relay takes: the batch outlasts one lease term


@pytest.fixture
def slow_server(start_server: Callable[..., SmtpServer]) -> SmtpServer:
    return start_server(data_delay=PER_MESSAGE)


async def test_a_slow_batch_keeps_its_claim_past_the_lease(
    mail_factory: MailFactory, slow_server: SmtpServer
) -> None:
    busy = mail_factory(slow_server)
    late = mail_factory(slow_server)
    event = await make_event(busy.services, capacity=MESSAGES)
    await add_confirmed(busy.services, event.id, range(1, MESSAGES + 1))
    async with busy.services.transaction() as session:
        await send_message(
            session, event.id, subject="Viktigt", body="Läs detta.", audience=Audience.CONFIRMED
        )
    assert LEASE.total_seconds() + 1 < MESSAGES * PER_MESSAGE

    first = asyncio.create_task(busy.deliver(connections=1))
    await asyncio.sleep(LEASE.total_seconds() + 1)  # the claim's first term is over
    assert await late.deliver(connections=1) == DeliveryReport()  # nothing for it to take
    assert await first == DeliveryReport(sent=MESSAGES)

    rows = await outbox(busy.services)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert {r.attempts for r in rows} == {1}
    assert outbox_ids(busy.messages) == {r.id: 1 for r in rows}
