"""Writing outbox rows, inside the caller's transaction, exactly once per dedupe key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lunchkafe.timestamps import utcnow
from mail.models import MessageKind, OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    kind: MessageKind,
    recipient: str,
    dedupe_key: str,
    event_id: int | None = None,
    registration_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Add a message unless one with the same dedupe key exists; returns the new row or None."""
    existing = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    if existing is not None:
        return None
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        dedupe_key=dedupe_key,
        event_id=event_id,
        registration_id=registration_id,
        payload=payload or {},
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message
