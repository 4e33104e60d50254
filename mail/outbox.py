"""Writing outbox rows, inside the caller's transaction, exactly once per dedupe key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foundation import metrics
from foundation.database import conflict_insert
from foundation.errors import N_, DomainError
from foundation.ids import is_id
from foundation.timestamps import utcnow
from mail.addresses import canonical
from mail.models import Audience, MessageKind, OrganiserSend, OutboxMessage, OutboxStatus


async def enqueue(
    session: AsyncSession,
    *,
    kind: MessageKind,
    recipient: str,
    dedupe_key: str,
    event_id: int | None = None,
    registration_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add a message unless one with the same dedupe key exists, in one statement."""
    await session.execute(
        conflict_insert(session, OutboxMessage)
        .values(
            kind=kind,
            recipient=recipient,
            dedupe_key=dedupe_key,
            event_id=event_id,
            registration_id=registration_id,
            payload=payload or {},
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    # Tells the unit of work to nudge the delivery worker once this commits.
    session.info["outbox_written"] = True
    if kind == MessageKind.PROMOTED:  # every promotion writes its invite here, once
        metrics.promoted_on_commit(session)


@dataclass(frozen=True)
class NewMessage:
    kind: MessageKind
    recipient: str
    dedupe_key: str
    event_id: int
    registration_id: int
    payload: dict[str, Any]
    send_id: int | None = None
    due: datetime | None = None


async def enqueue_many(session: AsyncSession, messages: list[NewMessage]) -> None:
    """Add many messages at once (reminders, organiser sends); existing keys are skipped,
    so two planners racing each other cannot fail or double a message."""
    if not messages:
        return
    now = utcnow()
    for start in range(0, len(messages), 500):  # well under SQLite's variable limit
        chunk = messages[start : start + 500]
        await session.execute(
            conflict_insert(session, OutboxMessage)
            .values(
                [
                    {
                        "kind": m.kind,
                        "recipient": m.recipient,
                        "dedupe_key": m.dedupe_key,
                        "event_id": m.event_id,
                        "registration_id": m.registration_id,
                        "send_id": m.send_id,
                        "payload": m.payload,
                        "status": OutboxStatus.PENDING,
                        "attempts": 0,
                        "next_attempt_at": m.due or now,
                        "created_at": now,
                    }
                    for m in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    session.info["outbox_written"] = True


async def new_send(
    session: AsyncSession,
    *,
    event_id: int,
    kind: MessageKind,
    audience: Audience,
    subject: str = "",
    body: str = "",
) -> OrganiserSend:
    """Record an organiser's send so its rows can report progress together."""
    send = OrganiserSend(
        event_id=event_id,
        kind=kind,
        audience=audience,
        subject=subject,
        body=body,
        created_at=utcnow(),
    )
    session.add(send)
    await session.flush()
    return send


class SendNotFound(DomainError):
    """No organiser send has this id."""

    code = "not_found"
    status = 404

    def __init__(self, send_id: int) -> None:
        super().__init__(N_("Utskick %(id)s finns inte."), id=send_id)


def _progress(counts: list[tuple[OutboxStatus, int]]) -> dict[str, int]:
    progress = {"queued": 0, "sent": 0, "failed": 0, "skipped": 0}
    for status, count in counts:
        key = "queued" if status in (OutboxStatus.PENDING, OutboxStatus.SENDING) else status.value
        progress[key] += count
    return progress


async def sends_of_event(
    session: AsyncSession, event_id: int
) -> list[tuple[OrganiserSend, dict[str, int]]]:
    """An event's sends, newest first, each with its progress as `send_progress` counts it."""
    sends = list(
        (
            await session.scalars(
                select(OrganiserSend)
                .where(OrganiserSend.event_id == event_id)
                .order_by(OrganiserSend.id.desc())
            )
        ).all()
    )
    counts: dict[int, list[tuple[OutboxStatus, int]]] = {s.id: [] for s in sends}
    if sends:
        rows = await session.execute(
            select(OutboxMessage.send_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.send_id.in_(list(counts)))
            .group_by(OutboxMessage.send_id, OutboxMessage.status)
        )
        for send_id, status, count in rows.all():
            if send_id is not None:  # never, by the filter; says so to the type checker
                counts[send_id].append((status, count))
    return [(send, _progress(counts[send.id])) for send in sends]


async def send_progress(session: AsyncSession, send_id: int) -> dict[str, int]:
    """How many of a send's messages are queued, sent, failed or skipped.

    Raises SendNotFound for an id no send has (ids outside 1..2³¹−1 included), rather than
    reporting zeros that read like a send with nothing in it.
    """
    if not is_id(send_id) or await session.get(OrganiserSend, send_id) is None:
        raise SendNotFound(send_id)
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.send_id == send_id)
        .group_by(OutboxMessage.status)
    )
    return _progress([(status, count) for status, count in rows.all()])


@dataclass(frozen=True)
class Backlog:
    """Mail that is due and not sent: pending rows whose time has come, and claims whose
    lease ran out. `oldest_due_at` is when the longest-waiting of them fell due."""

    due: int
    oldest_due_at: datetime | None


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    """How much mail waits for a worker now (one indexed query, for `/readyz`)."""
    row = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                OutboxMessage.next_attempt_at <= now,
            )
        )
    ).one()
    oldest = row[1]
    if isinstance(oldest, str):  # SQLite hands an aggregate back untyped
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Backlog(due=int(row[0]), oldest_due_at=oldest)


async def existing_keys(session: AsyncSession, prefix: str) -> set[str]:
    """Dedupe keys already used under a prefix, to add many rows with one query."""
    rows = await session.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.startswith(prefix))
    )
    return set(rows.all())


@dataclass(frozen=True)
class Unsent:
    """A person's messages of one kind still waiting to go out: their row ids, oldest
    first, and the newest one's payload (what it would have told)."""

    ids: tuple[int, ...]
    payload: dict[str, Any]


async def unsent_payloads(
    session: AsyncSession, *, kind: MessageKind, event_id: int
) -> dict[int, Unsent]:
    """registration id → the messages of `kind` about the event still waiting to go out
    (pending, not claimed by a worker).

    The rows stay locked until the caller's transaction ends, so what it read is still
    unsent when it commits: a worker's claim (FOR UPDATE SKIP LOCKED, notices.delivery)
    passes them by, and a row a claim holds is waited for and then, being claimed, not
    returned. The caller folds them into a newer message and calls `supersede`, or lets them
    go out. SQLite has one writer at a time, so it needs no lock.
    """
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.registration_id, OutboxMessage.payload)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.event_id == event_id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .order_by(OutboxMessage.id)
        .with_for_update()
    )
    found: dict[int, Unsent] = {}
    for row_id, registration_id, payload in rows:
        if registration_id:
            ids = found[registration_id].ids if registration_id in found else ()
            found[registration_id] = Unsent((*ids, row_id), payload)
    return found


async def supersede(session: AsyncSession, ids: list[int], reason: str) -> None:
    """Settle waiting messages that a newer one, written in this transaction, carries
    (read with `unsent_payloads`, so still locked and unsent): skipped, with `reason` (in
    English, for operators) where the outbox shows why."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SKIPPED, last_error=reason)
        )


async def outbox_summary(session: AsyncSession, failed_limit: int = 20) -> list[str]:
    """Counts per status, then the latest failures with the server's answer."""
    counts = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    lines = [" ".join(f"{status.value}={n}" for status, n in counts.all()) or "outbox is empty"]
    failed = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(failed_limit)
    )
    for message in failed:
        lines.append(
            f"failed #{message.id} {message.kind.value} to {message.recipient}: "
            f"{message.last_error}"
        )
    return lines


FORGOTTEN = "(raderad)"


async def forget_recipients(session: AsyncSession, registration_ids: list[int]) -> None:
    """Drop the addresses from messages of erased registrations, with their payload (an
    organiser's note may name the person) and last error (servers quote the address). Their
    content is composed from the registration, so nothing else of the person remains here."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(registration_ids))
        .values(recipient=FORGOTTEN, payload={}, last_error=None)
    )


async def addressed_to(
    session: AsyncSession, email_normalised: str, kinds: frozenset[MessageKind]
) -> list[OutboxMessage]:
    """The messages of `kinds` to `email_normalised` (mail.addresses.canonical) that belong
    to no registration, oldest first. Recipients are stored as typed, so they are compared
    in Python; such mail (a proposer's, a data link) is a handful a month."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.registration_id.is_(None),
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.recipient != FORGOTTEN,
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    return [m for m in rows.all() if canonical(m.recipient) == email_normalised]


async def forget_address(
    session: AsyncSession, email_normalised: str, kinds: frozenset[MessageKind]
) -> int:
    """Drop the address `email_normalised` (mail.addresses.canonical) from messages of
    `kinds` that belong to no registration (a proposer's decision mail, say), with their
    payload and last error; a message still waiting goes too, marked skipped. How many."""
    ids = [m.id for m in await addressed_to(session, email_normalised, kinds)]
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SKIPPED)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(recipient=FORGOTTEN, payload={}, last_error=None)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


async def unsettled_of(session: AsyncSession, registration_ids: list[int]) -> set[int]:
    """Which of `registration_ids` still have a message waiting or on its way."""
    if not registration_ids:
        return set()
    rows = await session.scalars(
        select(OutboxMessage.registration_id)
        .where(
            OutboxMessage.registration_id.in_(registration_ids),
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
        .distinct()
    )
    return {r for r in rows.all() if r is not None}


async def skip_waiting(session: AsyncSession, registration_ids: list[int], reason: str) -> int:
    """Settle every message still waiting (not on its way) to `registration_ids` as skipped,
    with `reason` (English, for operators); returns how many."""
    if not registration_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.registration_id.in_(registration_ids),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.SKIPPED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def purge_settled(session: AsyncSession, *, before: datetime) -> int:
    """Forget the recipient, payload and last error of every settled message (sent, failed
    or skipped) settled before `before`: kept as counts for the outbox's statistics, they
    name nobody (OUTBOX_RETENTION_DAYS). Returns how many rows were purged.

    Settled means sent (`sent_at`), or else its last attempt or due time (`next_attempt_at`):
    a reminder is written weeks before it goes out, and the privacy notice promises the
    days after sending, so a failure's reason stays for an operator that long too."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(
                [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED]
            ),
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.next_attempt_at) < before,
            OutboxMessage.recipient != FORGOTTEN,
        )
        .values(recipient=FORGOTTEN, payload={}, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class OutboxMessageNotFound(DomainError):
    """No outbox message has this id."""

    code = "not_found"
    status = 404

    def __init__(self, message_id: int) -> None:
        super().__init__(N_("Meddelande %(id)s finns inte i utkorgen."), id=message_id)


class NotRetryable(DomainError):
    """Only a message that failed for good can be tried again."""

    code = "not_failed"
    status = 409

    def __init__(self) -> None:
        super().__init__(N_("Bara ett meddelande som misslyckats kan skickas igen."))


async def failed_message(session: AsyncSession, message_id: int) -> OutboxMessage:
    """The outbox message `message_id` if it failed for good; OutboxMessageNotFound for an
    id no message has, NotRetryable for one that did not fail (sent, waiting, skipped)."""
    message = await session.get(OutboxMessage, message_id) if is_id(message_id) else None
    if message is None:
        raise OutboxMessageNotFound(message_id)
    if message.status != OutboxStatus.FAILED:
        raise NotRetryable()
    return message


async def retry_failed(session: AsyncSession, message_id: int, now: datetime) -> OutboxMessage:
    """Put a failed message back in the queue, due at `now`, for one more attempt: its
    attempts keep counting, so the outbox shows every try, and a message whose retries were
    used up fails again on the next refusal instead of starting hours of backoff anew. The
    last error stays until that attempt replaces it. Raises as `failed_message` does."""
    message = await failed_message(session, message_id)
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = now
    session.info["outbox_written"] = True
    return message


async def messages_of_event(
    session: AsyncSession, event_id: int, limit: int = 500
) -> list[OutboxMessage]:
    """An event's outbox, newest first, at most `limit` rows."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.event_id == event_id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def troubled_messages(
    session: AsyncSession, late_before: datetime, limit: int = 500
) -> list[OutboxMessage]:
    """Messages that failed for good, and messages still waiting that fell due before
    `late_before` (stuck: no worker, or a backlog), newest first, at most `limit`."""
    waiting = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            (OutboxMessage.status == OutboxStatus.FAILED)
            | (waiting & (OutboxMessage.next_attempt_at < late_before))
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows.all())
