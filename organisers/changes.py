"""An organiser's change to a published event, or its cancellation, applied only as previewed.

The preview (registrations.organising) says in numbers who will be told what; the
organiser confirms with the preview's `version`, and the change is applied only while the
event and its list are still as the preview saw them, under the event's lock. Each applied
change is written to the audit log in the same transaction, with ids and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import InvalidEvent
from events.models import Event
from events.schedule import EventChanges, event_by_id, locked_event
from foundation.timeparse import UnclearLocalTime
from foundation.typed_times import place_typed, unclear_message
from organisers import audit
from organisers.errors import ChangedSincePreview
from organisers.models import Organiser
from registrations.organising import (
    ChangePreview,
    cancel_event,
    preview_as_is,
    preview_cancel,
    preview_update,
    update_event,
)


@dataclass(frozen=True)
class ChangeForm:
    """What the change form asks for, read but not yet checked: the day and the local start
    and end times (an end at or before the start is refused, never moved to the next day:
    see `changes_from_form`), the title, the venue and join
    link ("" removes them), the capacity, and a note to attendees. `starts_offset` and
    `ends_offset` ("+02:00"; "" when not asked) pick the reading of a time the clocks
    repeat that night (foundation.typed_times)."""

    day: date
    starts: time
    ends: time
    venue: str
    join_url: str
    capacity: int
    note: str = ""
    title: str | None = None  # None: the form did not ask (the title stays)
    starts_offset: str = ""
    ends_offset: str = ""


def changes_from_form(event: Event, form: ChangeForm, tz: str) -> EventChanges:
    """Only what the form changes: a time left as shown (to the minute, in `tz`), a title,
    venue, link or capacity left as it was, is not a change, so it moves nobody's calendar.

    The end is on the form's day (or as many days after it as the event's end is now after
    its start, so an event made through the API to run past midnight keeps its shape): an
    end at or before the start is passed on as typed, and the one rule for every way an
    event is changed (events.rules.check_times) refuses it on the end field.

    Times are placed by the one rule for typed times (foundation.typed_times): raises
    InvalidEvent under "starts_at" or "ends_at" for a time the clocks skip that night, or
    repeat without its offset chosen; never shifted."""
    zone = ZoneInfo(tz)
    spans = event.ends_at.astimezone(zone).date() - event.starts_at.astimezone(zone).date()
    errors: dict[str, str] = {}
    starts_at = _placed(datetime.combine(form.day, form.starts), form.starts_offset, tz)
    ends_at = _placed(datetime.combine(form.day + spans, form.ends), form.ends_offset, tz)
    for name, placed in (("starts_at", starts_at), ("ends_at", ends_at)):
        if isinstance(placed, UnclearLocalTime):
            errors[name] = unclear_message(placed)
    if errors:
        raise InvalidEvent(errors)
    assert isinstance(starts_at, datetime)
    assert isinstance(ends_at, datetime)
    changes = EventChanges()
    if form.title is not None and form.title.strip() != event.title:
        changes.title = form.title
    if starts_at != _to_minute(event.starts_at, zone):
        changes.starts_at = starts_at.astimezone(event.starts_at.tzinfo)
    if ends_at != _to_minute(event.ends_at, zone):
        changes.ends_at = ends_at.astimezone(event.ends_at.tzinfo)
    if form.venue.strip() != (event.venue or ""):
        changes.venue = form.venue
    if form.join_url.strip() != (event.join_url or ""):
        changes.join_url = form.join_url
    if form.capacity != event.capacity:
        changes.capacity = form.capacity
    return changes


def _placed(wall: datetime, offset: str, tz: str) -> datetime | UnclearLocalTime:
    try:
        return place_typed(wall, tz, offset.strip())
    except UnclearLocalTime as unclear:
        return unclear


def _to_minute(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(second=0, microsecond=0)


async def preview_form(
    session: AsyncSession, event_id: int, form: ChangeForm | None, *, tz: str
) -> ChangePreview:
    """What the form's change would do now (no form: the event as it is, nothing
    changing); writes nothing. Raises EventNotFound, InvalidEvent, EventInPast, or
    NothingToChange for a form with every value as it is."""
    if form is None:
        return await preview_as_is(session, event_id)
    event = await event_by_id(session, event_id, say_id=True)
    changes = changes_from_form(event, form, tz)
    return await preview_update(session, event_id, changes, note=form.note)


async def change_from_form(
    session: AsyncSession,
    organiser: Organiser | None,
    event_id: int,
    form: ChangeForm,
    *,
    tz: str,
    seen: str,
    now: datetime,
) -> ChangePreview:
    """`change_event` with the changes the form makes to the event as it is under its lock."""
    event = await locked_event(session, event_id)
    changes = changes_from_form(event, form, tz)
    return await change_event(
        session, organiser, event_id, changes, note=form.note, seen=seen, now=now
    )


async def change_event(
    session: AsyncSession,
    organiser: Organiser | None,
    event_id: int,
    changes: EventChanges,
    *,
    note: str,
    seen: str,
    now: datetime,
) -> ChangePreview:
    """Apply `changes` (with the organiser's `note` to attendees) as the preview whose
    `version` was `seen` said; the preview it applied. Raises NothingToChange when every
    value is (now) as it is, ChangedSincePreview (with the preview as things are now) when
    the event or its list changed since, or what `registrations.organising.update_event`
    raises. `organiser` None: the command line."""
    await locked_event(session, event_id)
    preview = await preview_update(session, event_id, changes, note=note)
    if preview.version != seen:
        _refuse_stale(session, preview)
    await update_event(session, event_id, changes, note=note)
    await audit.record(
        session,
        organiser,
        "event.changed",
        f"event:{event_id}",
        now=now,
        fields=",".join(sorted(preview.changes)),
        invited=preview.invited,
        promoted=preview.promoted,
        waitlist_told=preview.waitlist_told,
        note=bool(note.strip()),
    )
    return preview


async def cancel_event_as_previewed(
    session: AsyncSession,
    organiser: Organiser | None,
    event_id: int,
    *,
    note: str,
    seen: str,
    now: datetime,
) -> ChangePreview:
    """Cancel the event (with the organiser's `note`) as the preview whose `version` was
    `seen` said; the preview it applied. Raises ChangedSincePreview, or what
    `registrations.organising.cancel_event` raises."""
    await locked_event(session, event_id)
    preview = await preview_cancel(session, event_id, note=note)
    if preview.version != seen:
        _refuse_stale(session, preview)
    await cancel_event(session, event_id, note=note)
    await audit.record(
        session,
        organiser,
        "event.cancelled",
        f"event:{event_id}",
        now=now,
        cancelled=preview.cancelled,
        waitlist_told=preview.waitlist_told,
        note=bool(note.strip()),
    )
    return preview


def _refuse_stale(session: AsyncSession, preview: ChangePreview) -> NoReturn:
    # Detached first, so the rollback that follows leaves the new preview readable.
    session.expunge(preview.event)
    raise ChangedSincePreview(preview)
