"""An event's list of people, as its organiser sees it: booked, in line, cancelled; searched;
and the rows an export holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from events.schedule import event_by_id
from foundation.ids import is_id
from registrations import errors
from registrations.models import Registration, RegistrationStatus

MAX_QUERY = 200  # characters of a search that are used


@dataclass(frozen=True)
class RosterEntry:
    """One person on the list. `booked_at` is when they last booked (consent is given with
    each booking); `position` their place in line, 1 first (None: not waiting)."""

    id: int
    name: str
    email: str
    organisation: str
    municipality: str
    status: RegistrationStatus
    booked_at: datetime
    position: int | None
    cancelled_at: datetime | None
    attended: bool | None


@dataclass(frozen=True)
class Roster:
    """An event's people who match `query` ("" for all): confirmed by when they booked, the
    waitlist in its order, cancelled latest first. `seats_free` counts the whole event."""

    event: Event
    query: str
    confirmed: list[RosterEntry]
    waitlisted: list[RosterEntry]
    cancelled: list[RosterEntry]
    seats_free: int

    @property
    def shown(self) -> int:
        return len(self.confirmed) + len(self.waitlisted) + len(self.cancelled)


async def roster(session: AsyncSession, event_id: int, query: str = "") -> Roster:
    """The event's list, narrowed to those whose name, address or organisation contains
    `query`, case-insensitively in any language (str.casefold: "åsa" finds "Åsa"). Raises
    EventNotFound. Places in line are counted on the whole waitlist, searched or not."""
    event = await event_by_id(session, event_id)
    everyone = await _entries(session, event_id)
    query = " ".join(query.split())[:MAX_QUERY]
    needle = query.casefold()
    found = [e for e in everyone if not needle or _matches(e, needle)]
    confirmed = sum(1 for e in everyone if e.status == RegistrationStatus.CONFIRMED)
    return Roster(
        event=event,
        query=query,
        confirmed=[e for e in found if e.status == RegistrationStatus.CONFIRMED],
        waitlisted=[e for e in found if e.status == RegistrationStatus.WAITLISTED],
        cancelled=sorted(
            (e for e in found if e.status == RegistrationStatus.CANCELLED),
            key=lambda e: (e.cancelled_at or e.booked_at, e.id),
            reverse=True,
        ),
        seats_free=max(event.capacity - confirmed, 0),
    )


async def entry(session: AsyncSession, event_id: int, registration_id: int) -> RosterEntry:
    """One person on the event's list (for a confirmation step). Raises RegistrationNotFound."""
    if is_id(event_id) and is_id(registration_id):
        for found in await _entries(session, event_id):
            if found.id == registration_id:
                return found
    raise errors.RegistrationNotFound(errors.MSG_NOT_ON_LIST)


def _matches(entry: RosterEntry, needle: str) -> bool:
    return any(needle in text.casefold() for text in (entry.name, entry.email, entry.organisation))


async def _entries(session: AsyncSession, event_id: int) -> list[RosterEntry]:
    """Everyone ever on the event's list: confirmed, then the waitlist in order, then the
    cancelled, each group oldest booking first."""
    rows = (
        await session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(Registration.waitlist_number, Registration.consent_at, Registration.id)
        )
    ).all()
    order = {
        RegistrationStatus.CONFIRMED: 0,
        RegistrationStatus.WAITLISTED: 1,
        RegistrationStatus.CANCELLED: 2,
    }
    entries: list[RosterEntry] = []
    in_line = 0
    for row in sorted(rows, key=lambda r: order[r.status]):
        position = None
        if row.status == RegistrationStatus.WAITLISTED:
            in_line += 1
            position = in_line
        entries.append(
            RosterEntry(
                id=row.id,
                name=row.name,
                email=row.email,
                organisation=row.organisation,
                municipality=row.municipality,
                status=row.status,
                booked_at=row.consent_at,
                position=position,
                cancelled_at=row.cancelled_at,
                attended=row.attended,
            )
        )
    return entries


# --- the export -------------------------------------------------------------------------

Cell = str | int | datetime | None

# The header row, in Swedish: the file is made for Swedish Excel.
EXPORT_HEADER = (
    "Status",
    "Plats i kön",
    "Namn",
    "E-postadress",
    "Organisation",
    "Kommun eller region",
    "Bokade",
    "Avbokade",
    "Närvaro",
)
_STATUS = {
    RegistrationStatus.CONFIRMED: "Bokad",
    RegistrationStatus.WAITLISTED: "I kö",
    RegistrationStatus.CANCELLED: "Avbokad",
}
_ATTENDED = {True: "Närvarande", False: "Uteblev", None: ""}


@dataclass(frozen=True)
class ExportTable:
    """What an export holds: `header`, then a row per person in the list's order, times as
    aware datetimes in the site's zone: its wall clock with the offset that makes it one
    moment where the clocks go back (roster_export writes both)."""

    event: Event
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


async def export_table(
    session: AsyncSession, event_id: int, *, tz_name: str = "Europe/Stockholm"
) -> ExportTable:
    """Every person on the event's list as export rows. Raises EventNotFound."""
    listed = await roster(session, event_id)
    zone = ZoneInfo(tz_name)

    def local(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(zone)

    rows: list[tuple[Cell, ...]] = [
        (
            _STATUS[e.status],
            e.position,
            e.name,
            e.email,
            e.organisation,
            e.municipality,
            local(e.booked_at),
            local(e.cancelled_at),
            _ATTENDED[e.attended] if e.status == RegistrationStatus.CONFIRMED else "",
        )
        for e in (*listed.confirmed, *listed.waitlisted, *listed.cancelled)
    ]
    return ExportTable(event=listed.event, header=EXPORT_HEADER, rows=rows)
