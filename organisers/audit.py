"""The audit log: who did what to which thing, when. Shown to admins.

Entries name the organiser and ids and counts, never an attendee's personal data, so the log
can be kept longer than the registrations it speaks of.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from organisers.models import AuditEntry, Organiser


async def record(
    session: AsyncSession,
    organiser: Organiser | None,
    action: str,
    subject: str = "",
    *,
    now: datetime,
    **detail: int | str | bool | None,
) -> None:
    """Log `action` ("event.published", "attendees.exported", …) on `subject` ("event:12")
    by `organiser` (None: the system or the command line)."""
    session.add(
        AuditEntry(
            organiser_id=organiser.id if organiser else None,
            actor=organiser.name if organiser else "system",
            action=action,
            subject=subject,
            detail=dict(detail),
            created_at=now,
        )
    )


async def recent(session: AsyncSession, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    rows = await session.scalars(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    )
    return list(rows.all())
