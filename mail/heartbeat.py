"""Delivery workers' heartbeats: written by each worker, read by `/readyz`.

In the database rather than Redis, so an outage of Redis cannot hide whether mail is still
looked after.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.database import conflict_insert
from mail.models import WorkerHeartbeat

# A worker silent this long is gone (restarted workers get a new host:pid name).
FORGET_AFTER = timedelta(days=1)


async def beat(
    session: AsyncSession, *, worker: str, started_at: datetime, redis_ok: bool, now: datetime
) -> None:
    """Record that `worker` (host:pid) is alive at `now`, and whether it reaches Redis."""
    statement = conflict_insert(session, WorkerHeartbeat).values(
        worker=worker[:200], started_at=started_at, seen_at=now, redis_ok=redis_ok
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["worker"], set_={"seen_at": now, "redis_ok": redis_ok}
        )
    )
    await session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_AFTER)
    )


async def last_heartbeat(session: AsyncSession) -> WorkerHeartbeat | None:
    """The most recent heartbeat of any worker, or None if no worker has ever run."""
    found: WorkerHeartbeat | None = await session.scalar(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc()).limit(1)
    )
    return found
