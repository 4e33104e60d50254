"""Checking people in on the day: who came, who did not, and who is not yet marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from events.schedule import event_by_id
from foundation.ids import is_id
from registrations import errors
from registrations.models import Registration, RegistrationStatus

# People are checked in from the day of the event (its date in the organisers' time zone)
# until this many days after it, for the list marked afterwards from notes on paper.
CHECK_IN_DAYS_AFTER = 3


def check_in_days(event: Event, tz: str) -> tuple[datetime, datetime]:
    """When check-in opens (midnight starting the event's date in `tz`, the organisers'
    TIMEZONE) and closes (midnight ending the CHECK_IN_DAYS_AFTER-th day after it ends),
    both aware."""
    zone = ZoneInfo(tz)
    first = event.starts_at.astimezone(zone).date()
    last = event.ends_at.astimezone(zone).date() + timedelta(days=CHECK_IN_DAYS_AFTER + 1)
    return datetime.combine(first, time(), zone), datetime.combine(last, time(), zone)


def check_in_open(event: Event, tz: str, now: datetime) -> None:
    """Raise CheckInClosed saying when check-in opens, or that it has closed, unless `now`
    lies within check_in_days."""
    opens, closes = check_in_days(event, tz)
    if now < opens:
        raise errors.CheckInClosed(errors.MSG_CHECK_IN_NOT_YET, opens=opens)
    if now >= closes:
        raise errors.CheckInClosed(errors.MSG_CHECK_IN_OVER, closed=closes)


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
    # When check-in opens and closes (check_in_days), and whether it has yet to open or is
    # over, seen when the list was read.
    opens_at: datetime
    closes_at: datetime
    not_yet: bool
    over: bool

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.attended is True)

    @property
    def no_show(self) -> int:
        return sum(1 for r in self.rows if r.attended is False)

    @property
    def unmarked(self) -> int:
        return sum(1 for r in self.rows if r.attended is None)


async def check_in_list(
    session: AsyncSession, event_id: int, *, tz: str, now: datetime
) -> CheckInList:
    """Everyone with a seat at the event, sorted by name, and when check-in opens and closes
    (in `tz`). Raises EventNotFound."""
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
    opens, closes = check_in_days(event, tz)
    return CheckInList(
        event=event,
        rows=rows,
        opens_at=opens,
        closes_at=closes,
        not_yet=now < opens,
        over=now >= closes,
    )


# What a check-in tap says, and what it stores in `attended`.
MARKS: dict[str, bool | None] = {"present": True, "no_show": False, "undo": None}


async def mark(
    session: AsyncSession,
    *,
    event_id: int,
    registration_id: int,
    mark: str,
    tz: str,
    now: datetime,
) -> Registration:
    """Mark a confirmed person "present", a "no_show", or not marked ("undo"), within the
    event's check-in days (check_in_days in `tz`). Raises InvalidMark, RegistrationNotFound,
    NotConfirmed for someone without a seat, or CheckInClosed."""
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
    check_in_open(await event_by_id(session, event_id), tz, now)
    registration.attended = MARKS[mark]
    registration.attendance_marked_at = None if MARKS[mark] is None else now
    return registration
