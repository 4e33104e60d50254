"""The outbox's unsent rows, read by a change that folds them into its own notice, are locked
against a worker's claim until that change commits (mail.outbox.unsent_payloads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.schedule import EventChanges
from foundation.timestamps import utcnow
from notices.delivery import claim_due
from registrations import booking
from registrations.organising import update_event
from tests.conftest import SECRET, Mail
from tests.factories import address, make_event, person

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
