"""Background jobs: plain coroutines taking arq's `ctx`, safe to run twice or concurrently.

arq runs them in the `worker` process; without REDIS_URL the in-process runner calls the
very same functions.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from lunchkafe.services import Services
from lunchkafe.timestamps import utcnow
from mail.delivery import deliver_due
from registrations.reminders import create_due_follow_ups, create_due_reminders
from registrations.retention import anonymise_past_registrations

log = logging.getLogger("lunchkafe.workers")


async def deliver_mail(ctx: dict[str, Any]) -> dict[str, int]:
    """Send every due outbox row, in batches over reused connections."""
    services: Services = ctx["services"]
    report = await deliver_due(services)
    if report.handled:
        log.info("mail delivery: %s", report)
    return asdict(report)


async def plan_mail(ctx: dict[str, Any]) -> int:
    """Queue the reminders and follow-ups that are due; their dedupe keys make it idempotent."""
    services: Services = ctx["services"]
    settings = services.settings
    now = utcnow()
    async with services.transaction() as session:
        created = await create_due_reminders(
            session,
            now=now,
            default_offsets=settings.reminder_offsets,
            grace=settings.reminder_grace,
        )
        created += await create_due_follow_ups(session, now=now, after=settings.follow_up_after)
        erased = await anonymise_past_registrations(
            session, now=now, retention=timedelta(days=settings.retention_days)
        )
    if erased:
        log.info("anonymised %d registrations past the retention period", erased)
    return created


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Every minute: plan what is due and deliver it, so a lost nudge loses nothing."""
    planned = await plan_mail(ctx)
    delivered = await deliver_mail(ctx)
    return {"planned": planned, **delivered}
