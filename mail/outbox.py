"""Writing outbox rows, inside the caller's transaction, exactly once per dedupe key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.database import conflict_insert
from foundation.errors import N_, DomainError
from foundation.ids import is_id
from foundation.timestamps import utcnow
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
    progress = {"queued": 0, "sent": 0, "failed": 0, "skipped": 0}
    for status, count in rows.all():
        key = "queued" if status in (OutboxStatus.PENDING, OutboxStatus.SENDING) else status.value
        progress[key] += count
    return progress


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


async def forget_recipients(session: AsyncSession, registration_ids: list[int]) -> None:
    """Drop the addresses from messages of erased registrations (their content is composed
    from the registration, so nothing else of the person remains here)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(registration_ids))
        .values(recipient="(raderad)")
    )
