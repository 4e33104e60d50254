"""Background jobs: plain coroutines taking arq's `ctx`, safe to run twice or concurrently.

arq runs them in the `worker` process; without REDIS_URL the in-process runner calls the
very same functions.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from foundation import metrics
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.heartbeat import beat
from notices.delivery import deliver_due
from registrations.reminders import create_due_follow_ups, create_due_reminders
from workers.retention import purge_expired

log = logging.getLogger("lunchkafe.workers")

# Seconds between looks at the outbox without a nudge: retries come due, and a crashed
# worker's claims (a 10 s lease) are taken over. One indexed query when nothing is due.
DELIVER_EVERY = 5.0
# Seconds between heartbeats, which `/readyz` reads.
HEARTBEAT_EVERY = 10.0
# Seconds between plannings of reminders, follow-ups and erasure.
SWEEP_EVERY = 60.0


def job_context(services: Services, *, stop: asyncio.Event | None = None) -> dict[str, Any]:
    """The `ctx` the jobs below take: the services, a lock that keeps this process's delivery
    runs one at a time, and `stop`, which a stopping worker sets to end a run early.

    arq hands each job a copy of its ctx, so the lock must be made once, here, where the ctx
    is made; every caller (arq's startup, the worker process, the in-process runner, the
    command line) builds its ctx with this.
    """
    return {"services": services, "stop": stop, "delivery_lock": asyncio.Lock()}


async def deliver_mail(ctx: dict[str, Any]) -> dict[str, int]:
    """Send every due outbox row, in batches over reused connections."""
    services: Services = ctx["services"]
    # One delivery run at a time per process (a nudge, the sweep and the outbox timer may
    # coincide), so a crash can cost no more than one run's connections carry.
    lock: asyncio.Lock = ctx["delivery_lock"]  # made by job_context
    async with lock, metrics.job_run("deliver_mail"):
        # A stopping worker sets `stop`: the run ends after the messages on the wire.
        report = await deliver_due(services, stop=ctx.get("stop"))
    if report.handled:
        log.info("mail delivery: %s", report)
    return asdict(report)


async def plan_mail(ctx: dict[str, Any]) -> int:
    """Queue the reminders and follow-ups that are due; their dedupe keys make it idempotent."""
    services: Services = ctx["services"]
    settings = services.settings
    now = utcnow()
    async with metrics.job_run("plan_mail"), services.transaction() as session:
        created = await create_due_reminders(
            session,
            now=now,
            default_offsets=settings.reminder_offsets,
            grace=settings.reminder_grace,
        )
        created += await create_due_follow_ups(session, now=now, after=settings.follow_up_after)
    # Retention in a transaction of its own: a purge that fails loses no planned mail.
    await purge_expired(services, now=now)
    return created


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Every minute: plan what is due and deliver it, so a lost nudge loses nothing."""
    async with metrics.job_run("sweep"):
        planned = await plan_mail(ctx)
        delivered = await deliver_mail(ctx)
    return {"planned": planned, **delivered}


async def record_heartbeat(
    services: Services, *, worker: str, started_at: datetime, redis_ok: bool
) -> None:
    """Tell `/readyz` this worker (host:pid) is alive, and whether it reaches Redis."""
    async with services.transaction() as session:
        await beat(session, worker=worker, started_at=started_at, redis_ok=redis_ok, now=utcnow())
