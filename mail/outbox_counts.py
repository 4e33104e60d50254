"""The outbox in numbers, for the metrics operators scrape (web/metrics.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mail.models import OutboxMessage, OutboxStatus


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    """Outbox rows in each status (every status named, 0 included); one grouped count."""
    counts = {status.value: 0 for status in OutboxStatus}
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    for status, count in rows.all():
        counts[OutboxStatus(status).value] = int(count)
    return counts
