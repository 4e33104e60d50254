"""What an organiser does to an event, with everything it sets off for attendees.

Pages, the command line and the API call these, never `events.schedule` directly, so
a reschedule always reaches every attendee's calendar however it was made.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from events.schedule import EventChanges, apply_changes, mark_cancelled
from mail.models import MessageKind
from mail.outbox import enqueue
from registrations.models import Registration, RegistrationStatus
from registrations.waitlist import count_confirmed, promote_from_waitlist


async def update_event(session: AsyncSession, event_id: int, changes: EventChanges) -> Event:
    """Change an event; confirmed attendees get an updated invite, freed seats are filled."""
    update = await apply_changes(session, event_id, changes, count_confirmed=count_confirmed)
    event = update.event
    await session.flush()
    if update.calendar_changed:
        for registration in await _registrations(session, event.id, RegistrationStatus.CONFIRMED):
            await enqueue(
                session,
                kind=MessageKind.EVENT_CHANGED,
                recipient=registration.email,
                dedupe_key=f"changed:{registration.id}:{event.sequence}",
                event_id=event.id,
                registration_id=registration.id,
                payload={
                    "sequence": registration.invite_sequence(event),
                    "event_sequence": event.sequence,
                },
            )
    if update.capacity_raised:
        await promote_from_waitlist(session, event)
    return event


async def cancel_event(session: AsyncSession, event_id: int) -> Event:
    """Cancel an event; everyone booked or waiting is told, and calendars drop it."""
    event = await mark_cancelled(session, event_id)
    await session.flush()
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
                },
            )
    return event


async def _registrations(
    session: AsyncSession, event_id: int, status: RegistrationStatus
) -> list[Registration]:
    rows = await session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status == status)
        .order_by(Registration.id)
    )
    return list(rows.all())
