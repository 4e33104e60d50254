"""The outbox's unsent rows, read by a change that folds them into its own notice, are locked
against a worker's claim until that change commits (mail.outbox.unsent_payloads); workers
claiming at once never share a row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from events.schedule import EventChanges
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import Audience, OutboxStatus
from notices.delivery import claim_due
from registrations import booking
from registrations.messaging import send_message
from registrations.organising import update_event
from tests.conftest import SECRET, Mail, MailFactory
from tests.factories import add_confirmed, address, make_event, outbox, person

# Wednesday 16 December 2026, 12.00–13.00 in Stockholm (UTC+1).
STARTS = datetime(2026, 12, 16, 11, 0, tzinfo=UTC)


async def test_a_worker_cannot_claim_a_notice_a_change_is_folding_in(mail: Mail) -> None:
    """A second change reads the first change's waiting notice to say 'tidigare …' from what
    the person was last told. A worker claiming that notice in between would send it and
    leave the new notice's 'tidigare' one step stale; the claim skips it instead, and the
    person gets one mail, from the first value to the last."""
    services = mail.services
    if services.settings.is_sqlite:
        pytest.skip("SQLite has one writer at a time: a claim cannot run inside a change")
    event = await make_event(services, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))
    async with services.transaction() as session:
        await booking.book(session, event_id=event.id, attendee=person(1), secret_key=SECRET)
    await mail.deliver()
    mail.clear()
    async with services.transaction() as session:  # the first change, not yet delivered
        await update_event(
            session, event.id, EventChanges(starts_at=STARTS + timedelta(days=1), allow_past=True)
        )

    async with services.transaction() as changing:
        await update_event(changing, event.id, EventChanges(venue="Sal Ärla"))
        async with services.transaction() as worker:
            claimed = await claim_due(worker, utcnow(), 10)
        assert claimed == [], [row.dedupe_key for row in claimed]

    report = await mail.deliver()
    assert report.sent == 1
    told = mail.only(address(1)).get_body(("plain",))
    assert told is not None
    text = str(told.get_content())
    assert "(tidigare onsdag 16 december 2026, kl. 12.00–13.00)" in text
    assert "Plats: Sal Ärla (ny)" in text


async def test_workers_claiming_at_once_never_share_a_row(
    mail: Mail, mail_factory: MailFactory
) -> None:
    """Four workers (own engines and pools, as four processes have) claim batches of one
    fan-out at the same moment, in one UPDATE each (notices.delivery.claim_due), until none
    is left: every row is claimed once, by one of them, with one attempt counted."""
    event = await make_event(mail.services, capacity=500)
    await add_confirmed(mail.services, event.id, range(1, 241))
    async with mail.services.transaction() as session:
        await send_message(
            session, event.id, subject="Viktigt", body="Läs detta.", audience=Audience.CONFIRMED
        )
    workers = [mail.services] + [mail_factory(mail.server).services for _ in range(3)]
    for services in workers:  # connected first: else the first to connect claims them all
        async with services.transaction() as session:
            await session.execute(text("SELECT 1"))

    async def claim_all(services: Services) -> list[int]:
        mine: list[int] = []
        while True:
            async with services.transaction() as session:
                batch = await claim_due(session, utcnow(), 17)
            if not batch:
                return mine
            mine += [row.id for row in batch]
            assert len(batch) <= 17  # one UPDATE takes no more than it asked for
            await asyncio.sleep(0)

    claimed = await asyncio.gather(*(claim_all(s) for s in workers))

    rows = await outbox(mail.services)
    assert len(rows) == 240
    everyone = [row_id for mine in claimed for row_id in mine]
    assert sorted(everyone) == sorted(r.id for r in rows)  # each once, none left out
    assert {r.status for r in rows} == {OutboxStatus.SENDING}
    assert {r.attempts for r in rows} == {1}
    assert sum(1 for mine in claimed if mine) >= 2, [len(m) for m in claimed]
