"""Retention everywhere, run by the worker's sweep (workers.retention.purge_expired): each
kind of personal data goes at its own configured age, on both databases, by a clock the test
sets; the log says how many, never whose."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from guide import proposals
from guide.proposal_models import GuideProposal
from guide.proposals import ProposalDraft
from mail.models import OutboxMessage, OutboxStatus
from notices.delivery import deliver_due
from organisers.models import AuditEntry
from registrations.models import Registration
from tests.factories import address, book, make_event
from tests.signing_in import add
from workers.retention import Purged, purge_expired


async def test_each_purge_waits_for_its_own_period(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(
        services.settings, retention_days=90, outbox_retention_days=30, audit_retention_days=365
    )
    at = dataclasses.replace(services, settings=settings)
    event = await make_event(services)
    await book(services, event.id, 1)
    await add(services, "anna@myndigheten.example.se")  # an audit entry
    await deliver_due(services)  # the confirmation is sent: settled
    start = utcnow()

    caplog.set_level(logging.INFO, logger="lunchkafe.workers")
    assert await purge_expired(at, now=start + timedelta(days=29)) == Purged()
    month = await purge_expired(at, now=start + timedelta(days=31))
    assert month == Purged(outbox_rows=1)
    async with services.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
        seat = await session.scalar(select(Registration))
    assert row is not None
    assert seat is not None
    assert (row.status, row.recipient, row.payload) == (OutboxStatus.SENT, "(raderad)", {})
    assert seat.email == address(1)  # the booking itself waits for RETENTION_DAYS

    season = await purge_expired(at, now=event.ends_at + timedelta(days=91))
    assert season == Purged(registrations=1)
    year = await purge_expired(at, now=start + timedelta(days=366))
    assert year.audit_entries >= 1
    async with services.transaction() as session:
        assert (await session.scalars(select(AuditEntry))).all() == []
        seat = await session.scalar(select(Registration))
    assert seat is not None
    assert seat.email == "(raderad)"
    logged = [r.getMessage() for r in caplog.records if r.name == "lunchkafe.workers"]
    assert "retention: outbox_rows purged: 1" in logged
    assert "retention: registrations purged: 1" in logged
    assert not any("person1" in line or "anna" in line for line in logged)


async def test_a_waiting_mail_is_not_purged(services: Services) -> None:
    event = await make_event(services)
    await book(services, event.id, 1)  # its confirmation waits: no worker ran
    purged = await purge_expired(services, now=utcnow() + timedelta(days=40))
    assert purged.outbox_rows == 0
    async with services.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None
    assert row.recipient == address(1)


async def test_a_mail_is_kept_its_days_after_it_went_out_not_after_it_was_written(
    services: Services,
) -> None:
    """A reminder is written up to 30 days before it goes out (registrations.reminders):
    the privacy notice promises OUTBOX_RETENTION_DAYS after sending, so a mail written long
    ago and sent today keeps its address (and a failure its reason) for that long."""
    settings = dataclasses.replace(services.settings, outbox_retention_days=7)
    at = dataclasses.replace(services, settings=settings)
    event = await make_event(services)
    await book(services, event.id, 1)
    await deliver_due(services)  # sent now
    now = utcnow()
    async with services.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None
        row.created_at = now - timedelta(days=25)  # written weeks before it went out

    assert await purge_expired(at, now=now + timedelta(days=1)) == Purged()
    async with services.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None
    assert row.recipient == address(1)
    assert await purge_expired(at, now=now + timedelta(days=8)) == Purged(outbox_rows=1)


async def test_a_proposal_nobody_decides_goes_proposal_retention_days_after_it_was_sent(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A proposal to the guide still waiting for a decision is not kept for ever: it goes
    PROPOSAL_RETENTION_DAYS after it was sent, a decided one RETENTION_DAYS after its
    decision, as /privacy says."""
    settings = dataclasses.replace(services.settings, retention_days=90, proposal_retention_days=60)
    at = dataclasses.replace(services, settings=settings)
    start = utcnow()
    async with services.transaction() as session:
        for n, title in enumerate(("Väntar", "Avböjs")):
            draft = ProposalDraft(
                title=title,
                organisation="Exempelkommun",
                summary="Så gjorde vi.",
                body="",
                contact_name=f"Person {n}",
                contact_email=address(n),
                language="sv",
            )
            sent = await proposals.submit(session, draft, start)
        await proposals.reject(session, sent.id, note="Finns redan.", now=start)

    caplog.set_level(logging.INFO, logger="lunchkafe.workers")
    assert await purge_expired(at, now=start + timedelta(days=59)) == Purged()
    assert await purge_expired(at, now=start + timedelta(days=61)) == Purged(undecided_proposals=1)
    async with services.transaction() as session:
        left = (await session.scalars(select(GuideProposal.title))).all()
    assert left == ["Avböjs"]
    assert await purge_expired(at, now=start + timedelta(days=91)) == Purged(proposals=1)
    logged = [r.getMessage() for r in caplog.records if r.name == "lunchkafe.workers"]
    assert "retention: undecided_proposals purged: 1" in logged
