"""An event's attendees in the workspace: the one call each page makes, with its audit entry.

Each function does the registrations package's work and records who did it in the audit log,
in the caller's transaction, naming ids and counts only, never an attendee's personal data.
Reading the list or exporting it is logged too (GDPR art. 5(2), accountability: who saw whose
data); those are the only entries a GET writes (READ_ACTIONS).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import InvalidEvent
from events.models import Event
from events.schedule import event_by_id
from organisers import audit
from organisers.errors import MSG_EMAIL, MSG_NAME
from organisers.models import Organiser
from registrations import attendance, booking, roster, roster_export, waitlist
from registrations import errors as registration_errors
from registrations.attendee import validate_attendee
from registrations.errors import InvalidAttendee
from registrations.models import Registration
from registrations.organising import checked_note

VIEWED = "attendees.viewed"
# Who looked at whose data is kept per sitting, not per reload.
VIEW_LOGGED_EVERY = timedelta(minutes=30)
EXPORTED = "attendees.exported"
# What a read records; nothing else may be written while answering a GET.
READ_ACTIONS = frozenset({VIEWED, EXPORTED})

ExportFormat = Literal["csv", "xlsx"]

_FOR_ORGANISER = {
    registration_errors.MSG_NAME_REQUIRED: MSG_NAME,
    registration_errors.MSG_EMAIL_REQUIRED: MSG_EMAIL,
    registration_errors.MSG_CONSENT_REQUIRED: registration_errors.MSG_CONSENT_BY_ORGANISER,
}


def _subject(event_id: int) -> str:
    return f"event:{event_id}"


async def attendee_list(
    session: AsyncSession, organiser: Organiser, event_id: int, query: str, now: datetime
) -> roster.Roster:
    """The event's list, searched for `query` (registrations.roster.roster); logged as
    viewed with the number of people shown. Raises EventNotFound."""
    found = await roster.roster(session, event_id, query)
    await logged_view(session, organiser, event_id, now, rows=found.shown, searched=bool(query))
    return found


async def logged_view(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    now: datetime,
    *,
    rows: int,
    page: str | None = None,
    **detail: bool,
) -> None:
    """The one rule for every page (and API answer) that shows attendees' personal data:
    log it as VIEWED of the event, with how many `rows` it showed and which `page` when it
    is not the attendee list itself ("check_in": names and organisations; "outbox": every
    recipient's address). Called on every read; the same organiser's view of the same page
    of the same event is logged once in VIEW_LOGGED_EVERY (a check-in reloads at each tap)."""
    where = {"page": page} if page else {}
    if await audit.logged_since(
        session, organiser, VIEWED, _subject(event_id), now - VIEW_LOGGED_EVERY, page=page
    ):
        return
    await audit.record(
        session, organiser, VIEWED, _subject(event_id), now=now, rows=rows, **where, **detail
    )


async def export(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    file_format: ExportFormat,
    now: datetime,
    *,
    tz_name: str,
) -> bytes:
    """The event's whole list as a CSV or .xlsx file (registrations.roster_export); logged
    as exported with the format and number of rows. Raises EventNotFound."""
    table = await roster.export_table(session, event_id, tz_name=tz_name)
    made = roster_export.to_csv(table) if file_format == "csv" else roster_export.to_xlsx(table)
    await audit.record(
        session,
        organiser,
        EXPORTED,
        _subject(event_id),
        now=now,
        rows=len(table.rows),
        format=file_format,
    )
    return made


async def add_attendee(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    *,
    name: str,
    email: str,
    organisation: str,
    municipality: str,
    consent: bool,
    secret_key: str,
    now: datetime,
    language: str = "sv",
    smtputf8: bool = False,
) -> booking.BookingResult:
    """Book someone by hand after the public form's checks (consent given by the organiser
    on their behalf); they get the usual mail, in `language` (the organiser's choice for
    them, "sv" or "en"), as every later one. Raises InvalidAttendee, EventNotFound,
    BookingClosed (see registrations.booking.add_by_hand)."""
    try:
        attendee = validate_attendee(
            name=name,
            email=email,
            organisation=organisation,
            municipality=municipality,
            consent=consent,
            language=language,
            smtputf8=smtputf8,
        )
    except InvalidAttendee as exc:
        # The public form's words speak to the person booking; here to the organiser.
        raise InvalidAttendee(
            {field: _FOR_ORGANISER.get(msgid, msgid) for field, msgid in exc.fields.items()}
        ) from exc
    result = await booking.add_by_hand(
        session, event_id=event_id, attendee=attendee, secret_key=secret_key, now=now
    )
    await audit.record(
        session,
        organiser,
        "registration.added",
        _subject(event_id),
        now=now,
        registration=result.registration.id,
        status=result.registration.status.value,
        consent="by_organiser",
    )
    return result


async def event_of(session: AsyncSession, event_id: int) -> Event:
    """The event whose list a page is about (drafts too). Raises EventNotFound."""
    return await event_by_id(session, event_id)


async def one_attendee(
    session: AsyncSession, event_id: int, registration_id: int
) -> roster.RosterEntry:
    """The person a confirmation step names. Raises RegistrationNotFound."""
    return await roster.entry(session, event_id, registration_id)


async def cancel_attendee(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    registration_id: int,
    now: datetime,
    *,
    reason: str = "",
) -> Registration:
    """Cancel someone's seat or place in line; they are told that the organiser did it, with
    `reason` when given (multi-line text, at most 5,000 characters), and the first in line
    moves up. Raises RegistrationNotFound, or InvalidAttendee naming `reason`."""
    try:
        reason = checked_note(reason)
    except InvalidEvent as exc:
        raise InvalidAttendee({"reason": exc.fields["message"]}) from None
    cancelled = await booking.cancel_by_id(
        session,
        event_id=event_id,
        registration_id=registration_id,
        now=now,
        by_organiser=True,
        note=reason,
    )
    # Whether a reason went with it, never its words: they may name the person.
    await audit.record(
        session,
        organiser,
        "registration.cancelled",
        _subject(event_id),
        now=now,
        registration=registration_id,
        note=bool(reason),
    )
    return cancelled


async def seat_offer(
    session: AsyncSession, event_id: int, registration_id: int, now: datetime
) -> waitlist.SeatOffer:
    """What giving someone in line a seat would do, for its confirmation page; not logged
    (nothing happens). Raises RegistrationNotFound, NotWaitlisted, BookingClosed."""
    return await waitlist.seat_offer(
        session, event_id=event_id, registration_id=registration_id, now=now
    )


async def give_seat(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    registration_id: int,
    seen: str,
    now: datetime,
) -> waitlist.SeatGiven:
    """Give someone in line a seat of their own, one more than the capacity when all are
    taken (registrations.waitlist.give_seat); logged with the new capacity when it grew.
    Raises SeatsChanged, NotWaitlisted, RegistrationNotFound, BookingClosed."""
    given = await waitlist.give_seat(
        session, event_id=event_id, registration_id=registration_id, seen=seen, now=now
    )
    # A seat added for them changed the event itself: said as a change of its capacity.
    grew: dict[str, int | str] = (
        {"fields": "capacity", "capacity": given.capacity}
        if given.capacity_before != given.capacity
        else {}
    )
    await audit.record(
        session,
        organiser,
        "registration.promoted",
        _subject(event_id),
        now=now,
        registration=registration_id,
        **grew,
    )
    return given


async def check_in_list(
    session: AsyncSession, organiser: Organiser, event_id: int, *, tz: str, now: datetime
) -> attendance.CheckInList:
    """The check-in page's people and counts, and when check-in opens (in `tz`); logged as
    viewed, as every page showing attendees is (logged_view). Raises EventNotFound."""
    found = await attendance.check_in_list(session, event_id, tz=tz, now=now)
    await logged_view(session, organiser, event_id, now, rows=len(found.rows), page="check_in")
    return found


async def mark_attendance(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    registration_id: int,
    mark: str,
    now: datetime,
    *,
    tz: str,
) -> Registration:
    """Mark someone "present", a "no_show", or "undo", on the event's check-in days (in
    `tz`). Raises InvalidMark, RegistrationNotFound, NotConfirmed, CheckInClosed."""
    marked = await attendance.mark(
        session, event_id=event_id, registration_id=registration_id, mark=mark, tz=tz, now=now
    )
    await audit.record(
        session,
        organiser,
        "attendance.marked",
        _subject(event_id),
        now=now,
        registration=registration_id,
        mark=mark,
    )
    return marked
