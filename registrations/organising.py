"""What an organiser does to an event, with everything it sets off for attendees.

Pages, the command line and the API call these, never `events.schedule` directly, so
a reschedule always reaches every attendee's calendar however it was made. Each change
has a preview (`preview_update`, `preview_cancel`) counted by the same rules, writing
nothing, so what an organiser is told before is what then happens. A change in which every
value is as it already is, is no change: both refuse it (NothingToChange), so nobody gets an
updated invite or a notice, and no audit entry says something moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import DraftNotCancelled, InvalidEvent
from events.models import Event, EventStatus
from events.schedule import (
    EventChanges,
    apply_changes,
    event_by_id,
    lock_event,
    mark_cancelled,
    plan_changes,
)
from foundation.errors import N_
from foundation.text import MSG_TOO_LONG, TextRefused, clean_text
from mail.models import MessageKind
from mail.outbox import enqueue, supersede, unsent_payloads
from registrations.change_notice import seen_of, told
from registrations.errors import NothingToChange
from registrations.models import Registration, RegistrationStatus
from registrations.waitlist import (
    count_confirmed,
    first_in_line,
    promote_from_waitlist,
    seat_counts,
)

MAX_NOTE = 5_000  # characters: an organiser's few words to attendees about a change
MSG_NOTE_TOO_LONG = N_("Meddelandet får vara högst 5 000 tecken.")


@dataclass(frozen=True)
class ChangePreview:
    """What a change or a cancellation will do, in people, before anything is written.

    `event` is the event as it is now, before the change; `changes` maps each field that
    would change to (now, after); empty when nothing would.
    Changing: `invited` confirmed get an updated invite (iTIP REQUEST, SEQUENCE one higher),
    `promoted` move up from the waitlist with an invite of their own (named in
    `promoted_names`), and `waitlist_told` stay in line and are told of the change (no
    invite). Cancelling: `cancelled` confirmed get a CANCEL that takes the event out of
    their calendars and `waitlist_told` are told it is off. `note_mails` is how many of
    these mails carry the organiser's note. `version` is the event and its list as seen
    (sequence, last change, confirmed, waiting): a confirmation carries it back and is
    refused when it no longer holds (organisers.changes).
    """

    event: Event
    cancelling: bool
    changes: dict[str, tuple[Any, Any]]
    confirmed: int
    waitlisted: int
    invited: int
    promoted: int
    waitlist_told: int
    cancelled: int
    version: str
    already_cancelled: bool = False
    calendar_changed: bool = False  # the time, place, link or title changes
    promoted_names: tuple[str, ...] = ()  # who moves up, first in line first

    @property
    def note_mails(self) -> int:
        """The mails an organiser's note goes with: changed and cancelled notices."""
        return self.invited + self.waitlist_told + self.cancelled

    @property
    def mails(self) -> int:
        return self.note_mails + self.promoted


def checked_note(note: str) -> str:
    """An organiser's note to attendees as it will be sent ("" for none), by
    foundation.text's rule for multi-line text. Raises InvalidEvent naming `message`."""
    try:
        return clean_text(note, max_length=MAX_NOTE)
    except TextRefused as exc:
        msgid = MSG_NOTE_TOO_LONG if exc.msgid == MSG_TOO_LONG else exc.msgid
        raise InvalidEvent({"message": msgid}) from None


async def preview_update(
    session: AsyncSession, event_id: int, changes: EventChanges, *, note: str = ""
) -> ChangePreview:
    """What `update_event(session, event_id, changes, note=note)` would do now; writes
    nothing. Raises what it would raise: EventNotFound, InvalidEvent, EventInPast,
    NothingToChange."""
    preview = await _preview_update(session, event_id, changes, note=note)
    if not preview.changes:
        raise NothingToChange()
    return preview


async def preview_as_is(session: AsyncSession, event_id: int) -> ChangePreview:
    """The event as it is, nothing changing, with its counts: what a change form starts
    from. Raises EventNotFound, or InvalidEvent for a cancelled event."""
    return await _preview_update(session, event_id, EventChanges())


async def _preview_update(
    session: AsyncSession, event_id: int, changes: EventChanges, *, note: str = ""
) -> ChangePreview:
    event = await event_by_id(session, event_id, say_id=True)
    checked_note(note)
    plan = await plan_changes(session, event, changes, count_confirmed=count_confirmed)
    confirmed, waitlisted = (await seat_counts(session, [event.id]))[event.id]
    # promote_from_waitlist fills every free seat from the head of the line.
    free = plan.new.get("capacity", event.capacity) - confirmed
    promoted = min(max(free, 0), waitlisted) if plan.capacity_raised else 0
    moving = await first_in_line(session, event.id, promoted)
    return ChangePreview(
        event=event,
        cancelling=False,
        changes=plan.differing(event),
        confirmed=confirmed,
        waitlisted=waitlisted,
        invited=confirmed if plan.calendar_changed else 0,
        calendar_changed=plan.calendar_changed,
        promoted=promoted,
        promoted_names=tuple(moving),
        # The join link is not theirs: a change of it alone tells the waitlist nothing.
        waitlist_told=waitlisted - promoted if plan.public_changed else 0,
        cancelled=0,
        version=_version(event, confirmed, waitlisted, plan.new, note, moving),
    )


async def preview_cancel(session: AsyncSession, event_id: int, *, note: str = "") -> ChangePreview:
    """What `cancel_event(session, event_id, note=note)` would do now; writes nothing.
    Raises what it would raise: EventNotFound, DraftNotCancelled, InvalidEvent (the note)."""
    event = await event_by_id(session, event_id, say_id=True)
    checked_note(note)
    if event.status == EventStatus.DRAFT:
        raise DraftNotCancelled()
    confirmed, waitlisted = (await seat_counts(session, [event.id]))[event.id]
    done = event.status == EventStatus.CANCELLED  # cancelling twice tells nobody again
    return ChangePreview(
        event=event,
        cancelling=True,
        changes={},
        confirmed=confirmed,
        waitlisted=waitlisted,
        invited=0,
        promoted=0,
        waitlist_told=0 if done else waitlisted,
        cancelled=0 if done else confirmed,
        version=_version(event, confirmed, waitlisted, {}, note),
        already_cancelled=done,
    )


async def update_event(
    session: AsyncSession, event_id: int, changes: EventChanges, *, note: str = ""
) -> Event:
    """Change an event; confirmed attendees get an updated invite, freed seats are filled,
    and when what they can see moved (time, place, title), those still in line are told
    (no invite; the join link is not theirs).

    `note` is the organiser's own words, carried in every changed notice. Raises
    EventNotFound, InvalidEvent, EventInPast, or NothingToChange when every value is as it
    already is, having written nothing.
    """
    note = checked_note(note)
    # What people knew, read under the event's lock before the change, in its transaction:
    # the notices carry it, so a mail composed later cannot take the new values for old.
    locked = await lock_event(session, event_id)
    was = seen_of(locked, join_link=True) if locked is not None else {}
    if locked is not None:
        plan = await plan_changes(session, locked, changes, count_confirmed=count_confirmed)
        if not plan.differing(locked):
            raise NothingToChange()
    update = await apply_changes(session, event_id, changes, count_confirmed=count_confirmed)
    event = update.event
    await session.flush()
    if update.calendar_changed:
        await _tell_changed(session, event, RegistrationStatus.CONFIRMED, note, was)
    if update.capacity_raised:
        await promote_from_waitlist(session, event)
    if update.public_changed:
        # After promotion: whoever moved up has an invite with the new details already.
        await _tell_changed(session, event, RegistrationStatus.WAITLISTED, note, was)
    return event


async def _tell_changed(
    session: AsyncSession,
    event: Event,
    status: RegistrationStatus,
    note: str,
    was: dict[str, Any],
) -> None:
    """Queue the changed notice for everyone with `status`: the confirmed with an updated
    invite (their own SEQUENCE), those in line without one (and without the join link,
    old or new). Each says what changed since the person was last told (`was`, or their
    earlier change's notice that has not gone out: that one is folded into this and skipped).
    Only a notice written to the same person replaces theirs: a change that tells the
    confirmed but not the line (a new join link) leaves the line's notice to go out."""
    confirmed = status == RegistrationStatus.CONFIRMED
    now = seen_of(event, join_link=confirmed)
    was = {name: value for name, value in was.items() if name in now}
    unsent = await unsent_payloads(session, kind=MessageKind.EVENT_CHANGED, event_id=event.id)
    folded: list[int] = []
    for registration in await _registrations(session, event.id, status):
        waiting = unsent.get(registration.id)
        earlier = waiting.payload if waiting is not None else None
        if earlier is not None and bool(earlier.get("waitlisted")) == confirmed:
            # Told while in the other state: they know the event from then on, and that
            # notice is moot at delivery (registrations.notices.moot_reason).
            earlier = None
        elif waiting is not None:
            folded.extend(waiting.ids)
        payload: dict[str, Any] = {"event_sequence": event.sequence, **told(was, now, earlier)}
        if confirmed:
            payload["sequence"] = registration.invite_sequence(event)
        else:
            payload["waitlisted"] = True
        if note:
            payload["note"] = note
        await enqueue(
            session,
            kind=MessageKind.EVENT_CHANGED,
            recipient=registration.email,
            dedupe_key=f"changed:{registration.id}:{event.sequence}",
            event_id=event.id,
            registration_id=registration.id,
            payload=payload,
        )
    await supersede(session, folded, "a later change superseded this one")


async def cancel_event(session: AsyncSession, event_id: int, *, note: str = "") -> Event:
    """Cancel an event; everyone booked or waiting is told, and calendars drop it.

    `note` is the organiser's own words, carried in every notice. Raises EventNotFound,
    AlreadyCancelled (a second cancel tells nobody again), DraftNotCancelled or
    InvalidEvent (the note).
    """
    note = checked_note(note)
    event = await mark_cancelled(session, event_id)
    await session.flush()
    said = {"note": note} if note else {}
    for status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED):
        for registration in await _registrations(session, event.id, status):
            await enqueue(
                session,
                kind=MessageKind.EVENT_CANCELLED,
                recipient=registration.email,
                dedupe_key=f"event-cancelled:{registration.id}:{event.sequence}",
                event_id=event.id,
                registration_id=registration.id,
                payload={
                    "sequence": registration.invite_sequence(event),
                    "was_confirmed": status == RegistrationStatus.CONFIRMED,
                    **said,
                },
            )
    return event


def _version(
    event: Event,
    confirmed: int,
    waitlisted: int,
    asked: dict[str, Any],
    note: str,
    moving: Sequence[str] = (),
) -> str:
    """The event and its list as seen, and what was asked of them (the new values and the
    note, hashed, with the names of who was said to move up): a confirmation whose values
    differ from the previewed ones, or that comes after the list changed, no longer
    matches."""
    stamp = int(event.updated_at.timestamp() * 1_000_000)
    request = repr(sorted((name, str(value)) for name, value in asked.items())) + "\x00" + note
    request += "\x00" + repr(list(moving))
    digest = hashlib.sha256(request.encode()).hexdigest()[:16]
    return f"{event.sequence}-{stamp}-{confirmed}-{waitlisted}-{digest}"


async def _registrations(
    session: AsyncSession, event_id: int, status: RegistrationStatus
) -> list[Registration]:
    rows = await session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status == status)
        .order_by(Registration.id)
    )
    return list(rows.all())
