"""Delivering due outbox rows: claim under a lease, compose, send, record the outcome.

Claiming and recording are short transactions of their own; the SMTP conversation happens
between them, outside any transaction, so a slow mail server never holds a database lock.
Each message is recorded the moment the server accepts it, and a claim is a short lease
renewed while the batch runs: after a crash only the messages on the wire (one per SMTP
connection) can be sent twice, and another worker takes the rest over within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foundation import metrics
from foundation.services import Services
from foundation.settings import Settings
from foundation.timestamps import utcnow
from mail.addresses import Undeliverable
from mail.mailbox import LocalMailbox
from mail.models import OutboxMessage, OutboxStatus
from mail.smtp import MAX_ATTEMPTS, DeliveryOutcome, SmtpTransport, backoff_delay, parse_smtp_url
from mail.wire import WireMail
from notices import account_mail, data_link_mail, proposal_mail
from notices.account_mail import AccountDraft
from notices.compose import Draft, load_drafts, render
from notices.data_link_mail import DataLinkDraft
from notices.fan_out import FanOut
from notices.proposal_mail import ProposalDraft

log = logging.getLogger("lunchkafe.mail")

AnyDraft = Draft | AccountDraft | ProposalDraft | DataLinkDraft

# A claim is short and renewed while its worker is busy with it: a live worker keeps its rows
# however slow the relay, and a crashed worker's rows are taken over within seconds.
LEASE = timedelta(seconds=10)
RENEW_EVERY = 3.0  # seconds; three renewals fit in a lease, so one slow renewal is no loss
# A worker stops starting new sends this long before its lease may have run out, so clock
# skew between machines or a slow send cannot overlap another worker's new claim.
LEASE_MARGIN = 3.0


class Postbox(Protocol):
    # Whether it takes a mail as the bytes of a WireMail (SMTP) or only an EmailMessage.
    takes_wire: bool

    async def send(self, message: EmailMessage | WireMail) -> DeliveryOutcome: ...


class MailboxPostbox:
    """The local mailbox behind the same interface as SMTP, for `make run`."""

    takes_wire = False

    def __init__(self, mailbox: LocalMailbox) -> None:
        self._mailbox = mailbox

    async def send(self, message: EmailMessage | WireMail) -> DeliveryOutcome:
        if isinstance(message, WireMail):
            raise TypeError("the local mailbox stores EmailMessages")
        try:
            message_id = await asyncio.to_thread(self._mailbox.deliver, message)
        except Undeliverable as exc:
            # As a relay without SMTPUTF8 would refuse it: for good, saying why.
            return DeliveryOutcome("failed", f"local mailbox: {exc}", "Undeliverable")
        return DeliveryOutcome("sent", f"local mailbox {message_id}")


@asynccontextmanager
async def open_postboxes(settings: Settings, count: int) -> AsyncIterator[list[Postbox]]:
    """`count` SMTP connections (opened lazily), or the local mailbox without SMTP_URL."""
    if not settings.smtp_url:
        mailbox = LocalMailbox(settings.mailbox_dir, smtputf8=settings.smtp_utf8)
        yield [MailboxPostbox(mailbox)]
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
    """Take up to `limit` due rows (pending, or sending with an expired lease) for this
    worker, oldest first, in one UPDATE … RETURNING: each row marked sending, its attempts
    counted and its lease set."""
    due = and_(
        OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        OutboxMessage.next_attempt_at <= now,
    )
    oldest = (
        select(OutboxMessage.id)
        .where(due)
        # Oldest first: a crashed worker's rows (their lease put their time last) are
        # taken over as soon as the lease runs out, not after the whole queue.
        .order_by(OutboxMessage.id)
        .limit(limit)
        # Two workers skip each other's rows instead of waiting or double-sending; a row
        # another worker claimed meanwhile is read again and, its lease ahead, passed by.
        # SQLite has one writer at a time, so it needs no lock.
        .with_for_update(skip_locked=True)
        # Picked once: PostgreSQL may run a plain IN (subquery) again for each row it
        # updates, and with SKIP LOCKED each run picks other rows, far past the limit.
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )
    rows = (
        await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(select(oldest.c.id)), due)
            .values(
                status=OutboxStatus.SENDING,
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + LEASE,
            )
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
    ).all()
    return sorted(rows, key=lambda row: row.id)


async def deliver_due(
    services: Services,
    *,
    # 50 rows over SMTP_CONNECTIONS connections: a batch is composed in one go, then each
    # message is recorded as it is accepted, so the batch size bounds memory, not what a
    # crash costs: that is the connections' count (Settings.smtp_connections).
    batch_size: int = 50,
    connections: int | None = None,
    max_batches: int = 1000,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """Send everything due now, batch by batch; returns what happened.

    `stop` (set by a worker shutting down) ends the run after the messages on the wire:
    rows not yet sent are handed back at once for another worker.
    """
    report = DeliveryReport()
    stop = stop or asyncio.Event()
    count = services.settings.smtp_connections if connections is None else connections
    async with open_postboxes(services.settings, count) as postboxes:
        for _ in range(max_batches):
            if stop.is_set():
                break
            batch = await _deliver_batch(services, postboxes, batch_size, stop)
            report += batch
            if batch.handled < batch_size:
                break
    return report


class _Claim:
    """This worker's hold on a claimed batch: the rows it still owes an outcome, renewed
    every RENEW_EVERY seconds. A row another worker took over (its lease ran out, so its
    attempts grew) drops out, and nothing is sent once the hold may have lapsed."""

    def __init__(self, services: Services, rows: Sequence[OutboxMessage]) -> None:
        self._services = services
        self.open: dict[int, int] = {row.id: row.attempts for row in rows}  # id -> attempts
        self._held_until = time.monotonic() + LEASE.total_seconds() - LEASE_MARGIN

    def holds(self, row: OutboxMessage) -> bool:
        return row.id in self.open and time.monotonic() < self._held_until

    async def renew_while_open(self) -> None:
        while self.open:
            await asyncio.sleep(RENEW_EVERY)
            started = time.monotonic()
            try:
                renewed = await self._renew()
            except Exception as exc:  # the database is away: keep trying while the lease runs
                log.warning("could not renew the claim on %d outbox rows (%s)", len(self.open), exc)
                continue
            for row_id in set(self.open) - renewed:
                self.open.pop(row_id, None)
            self._held_until = started + LEASE.total_seconds() - LEASE_MARGIN

    async def _renew(self) -> set[int]:
        ids_by_attempts: dict[int, list[int]] = {}
        for row_id, attempts in list(self.open.items()):
            ids_by_attempts.setdefault(attempts, []).append(row_id)
        async with self._services.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    or_(
                        *(
                            and_(OutboxMessage.attempts == attempts, OutboxMessage.id.in_(ids))
                            for attempts, ids in ids_by_attempts.items()
                        )
                    ),
                )
                .values(next_attempt_at=utcnow() + LEASE)
                .returning(OutboxMessage.id)
            )
            return set(result.scalars().all())

    async def settle(self, row: OutboxMessage, values: dict[str, object]) -> None:
        """Record one row's outcome in a commit of its own, while this claim still holds:
        if the lease ran out and another worker claimed the row, its outcome counts."""
        await self.settle_many([row], values)

    async def settle_many(self, rows: Sequence[OutboxMessage], values: dict[str, object]) -> None:
        """Record one outcome for many rows in one UPDATE per attempt count (usually one),
        in one commit on the engine: no ORM session, since a fan-out settles a row per mail."""
        ids_by_attempts: dict[int, list[int]] = {}
        for row in rows:
            attempts = self.open.pop(row.id, None)
            if attempts is not None:
                ids_by_attempts.setdefault(attempts, []).append(row.id)
        if not ids_by_attempts:
            return
        async with self._services.engine.begin() as connection:
            for attempts, ids in ids_by_attempts.items():
                await connection.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(ids),
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.attempts == attempts,
                    )
                    .values(**values)
                )

    async def release(self) -> None:
        """Hand back the rows never sent (the worker is stopping): due again at once, and the
        attempt that never happened not counted."""
        ids_by_attempts: dict[int, list[int]] = {}
        for row_id, attempts in list(self.open.items()):
            self.open.pop(row_id)
            ids_by_attempts.setdefault(attempts, []).append(row_id)
        if not ids_by_attempts:
            return
        async with self._services.engine.begin() as connection:
            for attempts, ids in ids_by_attempts.items():
                await connection.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(ids),
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.attempts == attempts,
                    )
                    .values(
                        status=OutboxStatus.PENDING,
                        attempts=attempts - 1,
                        next_attempt_at=utcnow(),
                    )
                )


async def _deliver_batch(
    services: Services, postboxes: Sequence[Postbox], batch_size: int, stop: asyncio.Event
) -> DeliveryReport:
    settings = services.settings
    now = utcnow()
    async with services.sessionmaker() as session:
        async with session.begin():
            claimed = await claim_due(session, now, batch_size)
        if not claimed:
            return DeliveryReport()
        claim = _Claim(services, claimed)
        # Renew from the moment of the claim: loading the drafts can itself take longer than
        # a lease on a busy database, and a lapsed hold would send nothing of the batch.
        renewing = asyncio.create_task(claim.renew_while_open(), name="outbox-lease")
        try:
            async with session.begin():
                # An organiser's account mail and a proposer's decision mail have no
                # registration: each has its own composer.
                # A person's link to their own data: its own composer too.
                links = [r for r in claimed if r.kind in data_link_mail.KINDS]
                claimed = [r for r in claimed if r.kind not in data_link_mail.KINDS]
                accounts = [r for r in claimed if r.kind in account_mail.KINDS]
                proposals = [r for r in claimed if r.kind in proposal_mail.KINDS]
                others = [
                    r
                    for r in claimed
                    if r.kind not in account_mail.KINDS and r.kind not in proposal_mail.KINDS
                ]
                drafts: list[tuple[OutboxMessage, AnyDraft | None, str | None]] = []
                if others:
                    drafts += await load_drafts(session, others, settings, now)
                if accounts:
                    drafts += await account_mail.load_drafts(session, accounts, settings, now)
                if links:
                    drafts += await data_link_mail.load_drafts(session, links, settings, now)
                if proposals:
                    drafts += await proposal_mail.load_drafts(session, proposals, settings, now)
        except BaseException:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            raise
    try:
        return await _send_claimed(services, claim, drafts, postboxes, stop)
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        if claim.open:
            with contextlib.suppress(Exception):  # else the lease runs out, a little later
                await claim.release()


async def _send_claimed(
    services: Services,
    claim: _Claim,
    drafts: Sequence[tuple[OutboxMessage, AnyDraft | None, str | None]],
    postboxes: Sequence[Postbox],
    stop: asyncio.Event,
) -> DeliveryReport:
    settings = services.settings
    now = utcnow()
    report = DeliveryReport()
    # Rendering happens with the database released: on SQLite the one connection is
    # free for bookings while templates and invites are built.
    sendable: list[tuple[OutboxMessage, EmailMessage | WireMail]] = []
    unsent: dict[tuple[OutboxStatus, str | None], list[OutboxMessage]] = {}
    # Over SMTP a fan-out's mails are rendered once per shape and sent as bytes
    # (notices.fan_out); the local mailbox stores EmailMessages.
    fan_out = FanOut(settings, now) if all(p.takes_wire for p in postboxes) else None
    for row, draft, reason in drafts:
        message: EmailMessage | WireMail | None = None
        if draft is not None:
            try:
                if isinstance(draft, Draft) and fan_out is not None:
                    # None for a mail with a calendar part: composed whole below.
                    message = fan_out.mail(draft) or render(draft, settings, now)
                elif isinstance(draft, AccountDraft):
                    message = account_mail.render(draft, settings, now)
                elif isinstance(draft, DataLinkDraft):
                    message = data_link_mail.render(draft, settings, now)
                elif isinstance(draft, ProposalDraft):
                    message = proposal_mail.render(draft, settings, now)
                else:
                    message = render(draft, settings, now)
            except Exception as exc:  # a template or data bug must not stall the queue
                # The type only: the message of an exception may quote the attendee's data.
                log.error("composing outbox message %s failed: %s", row.id, type(exc).__name__)
                reason = f"could not compose: {exc}"
        if message is not None:
            sendable.append((row, message))
            continue
        broken = bool(reason and reason.startswith("could not compose"))
        status = OutboxStatus.FAILED if broken else OutboxStatus.SKIPPED
        unsent.setdefault((status, reason), []).append(row)
        report += DeliveryReport(failed=1) if broken else DeliveryReport(skipped=1)
        await asyncio.sleep(0)  # let requests in between mails
    for (status, reason), rows in unsent.items():
        await claim.settle_many(rows, {"status": status, "last_error": reason})

    lanes: list[list[tuple[OutboxMessage, EmailMessage | WireMail]]] = [[] for _ in postboxes]
    for index, item in enumerate(sendable):
        lanes[index % len(postboxes)].append(item)

    async def run_lane(
        postbox: Postbox, lane: list[tuple[OutboxMessage, EmailMessage | WireMail]]
    ) -> None:
        nonlocal report
        for row, message in lane:
            if stop.is_set() or not claim.holds(row):
                continue  # handed back below, or already another worker's
            started = time.perf_counter()
            outcome = await postbox.send(message)
            metrics.mail_answered(outcome.status, time.perf_counter() - started)
            # Recorded before the next send: after a crash only the message on the wire
            # (one per connection) can go out again.
            values, counted = _record(row, outcome, utcnow())
            await claim.settle(row, values)
            report += counted

    await asyncio.gather(*(run_lane(p, lane) for p, lane in zip(postboxes, lanes, strict=True)))
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
