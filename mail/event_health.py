"""Mail trouble per event: how many of each event's mails failed for good, and how many are
still waiting long after they fell due (stuck: no worker, or a backlog)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mail.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class EventMail:
    """One event's mail trouble: `failed` for good, `stuck` waiting since before the limit."""

    failed: int = 0
    stuck: int = 0

    @property
    def troubled(self) -> bool:
        return bool(self.failed or self.stuck)


async def trouble_by_event(session: AsyncSession, late_before: datetime) -> dict[int, EventMail]:
    """event id → its failed and stuck mails, for every event that has any, in one grouped
    query (a page of events reads it once, not per row). Stuck is what
    `mail.outbox.troubled_messages` lists as stuck: pending or sending, due before
    `late_before`."""
    failed = OutboxMessage.status == OutboxStatus.FAILED
    stuck = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]) & (
        OutboxMessage.next_attempt_at < late_before
    )
    rows = await session.execute(
        select(
            OutboxMessage.event_id,
            func.sum(case((failed, 1), else_=0)),
            func.sum(case((stuck, 1), else_=0)),
        )
        .where(OutboxMessage.event_id.is_not(None), failed | stuck)
        .group_by(OutboxMessage.event_id)
    )
    return {
        int(event_id): EventMail(failed=int(failed_count or 0), stuck=int(stuck_count or 0))
        for event_id, failed_count, stuck_count in rows.all()
    }
