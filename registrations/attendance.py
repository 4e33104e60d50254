"""Checking people in on the day: who came, who did not, and who is not yet marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from events.schedule import event_by_id
from foundation.ids import is_id
from registrations import errors
from registrations.models import Registration, RegistrationStatus


@dataclass(frozen=True)
class CheckInRow:
    id: int
    name: str
    organisation: str
    attended: bool | None  # True present, False no-show, None not marked


@dataclass(frozen=True)
class CheckInList:
    """An event's confirmed people by name, and how many are marked each way."""

    event: Event
    rows: list[CheckInRow]

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.attended is True)

    @property
    def no_show(self) -> int:
        return sum(1 for r in self.rows if r.attended is False)

    @property
    def unmarked(self) -> int:
        return sum(1 for r in self.rows if r.attended is None)


async def check_in_list(session: AsyncSession, event_id: int) -> CheckInList:
    """Everyone with a seat at the event, sorted by name. Raises EventNotFound."""
    event = await event_by_id(session, event_id)
    confirmed = await session.scalars(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )
    rows = [
        CheckInRow(id=r.id, name=r.name, organisation=r.organisation, attended=r.attended)
        for r in confirmed
    ]
    rows.sort(key=lambda r: (r.name.casefold(), r.id))
    return CheckInList(event=event, rows=rows)


# What a check-in tap says, and what it stores in `attended`.
MARKS: dict[str, bool | None] = {"present": True, "no_show": False, "undo": None}


async def mark(
    session: AsyncSession,
    *,
    event_id: int,
    registration_id: int,
    mark: str,
    now: datetime,
) -> Registration:
    """Mark a confirmed person "present", a "no_show", or not marked ("undo"). Raises
    InvalidMark, RegistrationNotFound, or NotConfirmed for someone without a seat."""
    if mark not in MARKS:
        raise errors.InvalidMark()
    registration = (
        await session.scalar(
            select(Registration).where(
                Registration.id == registration_id, Registration.event_id == event_id
            )
        )
        if is_id(event_id) and is_id(registration_id)
        else None
    )
    if registration is None:
        raise errors.RegistrationNotFound(errors.MSG_NOT_ON_LIST)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise errors.NotConfirmed()
    registration.attended = MARKS[mark]
    registration.attendance_marked_at = None if MARKS[mark] is None else now
    return registration
