"""The audit log: who did what to which thing, when. Shown to admins.

Entries name the organiser and ids and counts, never an attendee's personal data, so the log
can be kept longer than the registrations it speaks of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.ids import is_id
from organisers.models import AuditEntry, Organiser

PAGE_SIZE = 100  # entries a page of the log shows
MAX_ACTION = 60  # characters, as the column holds


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


async def logged_since(
    session: AsyncSession,
    organiser: Organiser,
    action: str,
    subject: str,
    since: datetime,
    **detail: int | str | bool | None,
) -> bool:
    """Whether `organiser` has an entry `action` on `subject` at or after `since` whose
    detail holds every pair in `detail` (compared in Python: JSON differs by database)."""
    rows = await session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.organiser_id == organiser.id,
            AuditEntry.action == action,
            AuditEntry.subject == subject,
            AuditEntry.created_at >= since,
        )
    )
    return any(all(row.get(k) == v for k, v in detail.items()) for row in rows)


async def purge_before(session: AsyncSession, before: datetime) -> int:
    """Delete every entry written before `before` (AUDIT_RETENTION_DAYS); returns how many."""
    result = await session.execute(
        delete(AuditEntry)
        .where(AuditEntry.created_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recent(session: AsyncSession, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    rows = await session.scalars(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    )
    return list(rows.all())


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first: `entries`; `older`, the `before` that opens the
    next page (None: this is the last); `actions`, every action the log holds, for a filter."""

    entries: list[AuditEntry]
    older: int | None
    actions: list[str]


async def page(
    session: AsyncSession,
    *,
    before: int | None = None,
    action: str | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """`size` entries older than the entry `before` (None: the newest), only those of
    `action` when given. Paged by id, which grows with every entry, so a page stays the
    same while newer entries arrive. An id or action no entry can have gives an empty page."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(size + 1)
    if before is not None:
        if not is_id(before):
            return AuditPage(entries=[], older=None, actions=await _actions(session))
        query = query.where(AuditEntry.id < before)
    if action:
        query = query.where(AuditEntry.action == action[:MAX_ACTION])
    found = list((await session.scalars(query)).all())
    more = len(found) > size
    shown = found[:size]
    return AuditPage(
        entries=shown,
        older=shown[-1].id if more and shown else None,
        actions=await _actions(session),
    )


async def _actions(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    return list(rows.all())
