"""What the organiser workspace's overview shows, read in one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mail.event_health import EventMail, trouble_by_event
from mail.heartbeat import last_heartbeat
from mail.models import OutboxMessage, OutboxStatus
from mail.outbox import backlog
from registrations import listing

# Beyond these, the overview warns: delivery is stuck or no worker is running.
MAIL_LATE_AFTER = timedelta(minutes=10)
WORKER_SILENT_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class MailHealth:
    """Mail due now, how late the oldest is (seconds; None: nothing due), mail that failed
    for good, and when a delivery worker was last seen (seconds ago; None: never)."""

    due: int
    oldest_due_seconds: float | None
    failed: int
    worker_seen_seconds: float | None

    @property
    def stuck(self) -> bool:
        late = self.oldest_due_seconds is not None and (
            self.oldest_due_seconds > MAIL_LATE_AFTER.total_seconds()
        )
        silent = self.worker_seen_seconds is None or (
            self.worker_seen_seconds > WORKER_SILENT_AFTER.total_seconds()
        )
        return late or (self.due > 0 and silent)


@dataclass(frozen=True)
class Overview:
    """Events not yet over (soonest first) and those over (latest first), drafts included,
    with seat and waitlist counts; the health of mail delivery, site-wide and per event."""

    upcoming: list[listing.EventListing]
    past: list[listing.EventListing]
    mail: MailHealth
    by_event: dict[int, EventMail] = field(default_factory=dict)

    def mail_of(self, event_id: int) -> EventMail:
        """The event's own failed and stuck mails (none: both 0)."""
        return self.by_event.get(event_id, NO_TROUBLE)


NO_TROUBLE = EventMail()


async def overview(session: AsyncSession, now: datetime) -> Overview:
    items = await listing.all_events(session)
    upcoming = [i for i in items if i.event.ends_at > now]
    past = sorted((i for i in items if i.event.ends_at <= now), key=lambda i: i.event.starts_at)
    waiting = await backlog(session, now)
    failed = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
    )
    heartbeat = await last_heartbeat(session)
    return Overview(
        upcoming=upcoming,
        past=past[::-1],
        # Late as the site-wide warning counts it, so a row and the warning agree.
        by_event=await trouble_by_event(session, now - MAIL_LATE_AFTER),
        mail=MailHealth(
            due=waiting.due,
            oldest_due_seconds=(
                (now - waiting.oldest_due_at).total_seconds() if waiting.oldest_due_at else None
            ),
            failed=int(failed or 0),
            worker_seen_seconds=(
                (now - heartbeat.seen_at).total_seconds() if heartbeat is not None else None
            ),
        ),
    )
