"""Delivering due outbox rows: claim under a lease, compose, send, record the outcome.

Claiming and recording are short transactions of their own; the SMTP conversation happens
between them, outside any transaction, so a slow mail server never holds a database lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lunchkafe.services import Services
from lunchkafe.settings import Settings
from lunchkafe.timestamps import utcnow
from mail.compose import load_drafts, render
from mail.mailbox import LocalMailbox
from mail.models import OutboxMessage, OutboxStatus
from mail.smtp import MAX_ATTEMPTS, DeliveryOutcome, SmtpTransport, backoff_delay, parse_smtp_url

log = logging.getLogger("lunchkafe.mail")

# A claimed row whose worker died is claimed again after this long. Far longer than a
# batch takes to send, so a live worker's rows are never sent twice.
LEASE = timedelta(minutes=5)


class Postbox(Protocol):
    async def send(self, message: EmailMessage) -> DeliveryOutcome: ...


class MailboxPostbox:
    """The local mailbox behind the same interface as SMTP, for `make run`."""

    def __init__(self, mailbox: LocalMailbox) -> None:
        self._mailbox = mailbox

    async def send(self, message: EmailMessage) -> DeliveryOutcome:
        message_id = await asyncio.to_thread(self._mailbox.deliver, message)
        return DeliveryOutcome("sent", f"local mailbox {message_id}")


@asynccontextmanager
async def open_postboxes(settings: Settings, count: int) -> AsyncIterator[list[Postbox]]:
    """`count` SMTP connections (opened lazily), or the local mailbox without SMTP_URL."""
    if not settings.smtp_url:
        yield [MailboxPostbox(LocalMailbox(settings.mailbox_dir))]
        return
    config = parse_smtp_url(settings.smtp_url)
    transports = [SmtpTransport(config) for _ in range(count)]
    try:
        yield list(transports)
    finally:
        await asyncio.gather(*(t.close() for t in transports), return_exceptions=True)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.skipped + other.skipped,
        )

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due rows (pending, or sending with an expired lease) for this worker."""
    due = or_(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.status == OutboxStatus.SENDING,
    )
    rows = list(
        (
            await session.scalars(
                select(OutboxMessage)
                .where(and_(due, OutboxMessage.next_attempt_at <= now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
                # Two workers skip each other's rows instead of waiting or double-sending.
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.attempts += 1
        row.next_attempt_at = now + LEASE
    return rows


async def deliver_due(
    services: Services,
    *,
    # 50 rows over 4 connections: even at the 10 s SMTP timeout per message a batch ends
    # well inside the 5-minute lease, so no second worker re-sends it.
    batch_size: int = 50,
    connections: int = 4,
    max_batches: int = 1000,
) -> DeliveryReport:
    """Send everything due now, batch by batch; returns what happened."""
    report = DeliveryReport()
    async with open_postboxes(services.settings, connections) as postboxes:
        for _ in range(max_batches):
            batch = await _deliver_batch(services, postboxes, batch_size)
            report += batch
            if batch.handled < batch_size:
                break
    return report


async def _deliver_batch(
    services: Services, postboxes: Sequence[Postbox], batch_size: int
) -> DeliveryReport:
    settings = services.settings
    now = utcnow()
    async with services.sessionmaker() as session:
        async with session.begin():
            claimed = await claim_due(session, now, batch_size)
        if not claimed:
            return DeliveryReport()
        async with session.begin():
            drafts = await load_drafts(session, claimed, settings, now)
    # Rendering happens with the database released: on SQLite the one connection is
    # free for bookings while templates and invites are built.
    messages: list[tuple[OutboxMessage, EmailMessage | None, str | None]] = []
    for row, draft, reason in drafts:
        if draft is None:
            messages.append((row, None, reason))
            continue
        try:
            messages.append((row, render(draft, settings, now), None))
        except Exception as exc:  # a template or data bug must not stall the queue
            log.exception("composing outbox message %s failed", row.id)
            messages.append((row, None, f"could not compose: {exc}"))
        await asyncio.sleep(0)  # let requests in between mails

    outcomes: dict[int, DeliveryOutcome] = {}
    lanes: list[list[tuple[OutboxMessage, EmailMessage]]] = [[] for _ in postboxes]
    sendable = [(row, msg) for row, msg, _ in messages if msg is not None]
    for index, item in enumerate(sendable):
        lanes[index % len(postboxes)].append(item)

    async def run_lane(postbox: Postbox, lane: list[tuple[OutboxMessage, EmailMessage]]) -> None:
        for row, message in lane:
            outcomes[row.id] = await postbox.send(message)

    await asyncio.gather(*(run_lane(p, lane) for p, lane in zip(postboxes, lanes, strict=True)))

    report = DeliveryReport()
    done = utcnow()
    async with services.transaction() as session:
        for row, message, reason in messages:
            if message is None:
                broken = bool(reason and reason.startswith("could not compose"))
                values: dict[str, object] = {
                    "status": OutboxStatus.FAILED if broken else OutboxStatus.SKIPPED,
                    "last_error": reason,
                }
                report += DeliveryReport(failed=1) if broken else DeliveryReport(skipped=1)
            else:
                outcome = outcomes[row.id]
                values, counted = _record(row, outcome, done)
                report += counted
            # Only while this claim still holds: if the lease ran out and another worker
            # claimed the row (attempts grew), its outcome is the one that counts.
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.attempts == row.attempts,
                )
                .values(**values)
            )
    return report


def _record(
    row: OutboxMessage, outcome: DeliveryOutcome, now: datetime
) -> tuple[dict[str, object], DeliveryReport]:
    if outcome.status == "sent":
        return {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}, DeliveryReport(
            sent=1
        )
    if outcome.status == "retry" and row.attempts < MAX_ATTEMPTS:
        return {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": now + backoff_delay(row.attempts),
            "last_error": outcome.detail[:2000],
        }, DeliveryReport(retried=1)
    return {"status": OutboxStatus.FAILED, "last_error": outcome.detail[:2000]}, DeliveryReport(
        failed=1
    )
