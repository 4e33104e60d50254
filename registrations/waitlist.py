"""The FIFO waitlist: positions, and promotion when a seat frees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import EventNotFound
from events.models import Event, EventStatus
from events.opening import MSG_CANCELLED, MSG_NOT_PUBLISHED, BookingClosed
from events.schedule import lock_event
from foundation.ids import is_id
from foundation.timestamps import utcnow
from mail.models import MessageKind
from mail.outbox import enqueue
from registrations import errors
from registrations.models import Registration, RegistrationStatus


async def count_confirmed(session: AsyncSession, event_id: int) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        or 0
    )


async def waitlist_position(session: AsyncSession, registration: Registration) -> int | None:
    """1 for the first in line; None when not waitlisted."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.waitlist_number is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.waitlist_number < registration.waitlist_number,
        )
    )
    return (ahead or 0) + 1


async def promote_from_waitlist(session: AsyncSession, event: Event) -> Sequence[Registration]:
    """Fill free seats from the head of the waitlist; the caller holds the event's lock."""
    free = event.capacity - await count_confirmed(session, event.id)
    if free <= 0:
        return []
    promoted = (
        await session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.waitlist_number)
            .limit(free)
        )
    ).all()
    now = utcnow()
    for registration in promoted:
        await _promote(session, event, registration, now)
    return promoted


async def promote_ahead(
    session: AsyncSession, *, event_id: int, registration_id: int, now: datetime | None = None
) -> Registration:
    """An organiser gives a free seat to someone in line, whatever their place; they get the
    invite as anyone promoted does. Raises RegistrationNotFound, BookingClosed (the event is
    cancelled, not published or over), NotWaitlisted, or NoSeatFree: confirmed seats never
    exceed capacity, and a seat freed before the event starts has already gone to the first
    in line."""
    now = now or utcnow()
    event = await lock_event(session, event_id)
    registration = (
        await session.scalar(
            select(Registration)
            .where(Registration.id == registration_id, Registration.event_id == event_id)
            .execution_options(populate_existing=True)
        )
        if event is not None and is_id(registration_id)
        else None
    )
    if event is None or registration is None:
        raise errors.RegistrationNotFound(errors.MSG_NOT_ON_LIST)
    refuse_unless_seatable(event, now)
    if registration.status != RegistrationStatus.WAITLISTED:
        raise errors.NotWaitlisted()
    if await count_confirmed(session, event.id) >= event.capacity:
        raise errors.NoSeatFree()
    await _promote(session, event, registration, now)
    return registration


def refuse_unless_seatable(event: Event | None, now: datetime) -> None:
    """What an organiser may still seat people at, past any registration window: a
    published event that has not ended. Raises EventNotFound or BookingClosed."""
    if event is None:
        raise EventNotFound()
    if event.status == EventStatus.CANCELLED:
        raise BookingClosed(MSG_CANCELLED)
    if event.status != EventStatus.PUBLISHED:
        raise BookingClosed(MSG_NOT_PUBLISHED)
    if now >= event.ends_at:
        raise BookingClosed(errors.MSG_EVENT_OVER)


async def _promote(
    session: AsyncSession, event: Event, registration: Registration, now: datetime
) -> None:
    registration.status = RegistrationStatus.CONFIRMED
    registration.waitlist_number = None
    registration.confirmed_at = now
    registration.updated_at = now
    await enqueue(
        session,
        kind=MessageKind.PROMOTED,
        recipient=registration.email,
        dedupe_key=f"promoted:{registration.id}:{now.timestamp():.6f}",
        event_id=event.id,
        registration_id=registration.id,
        payload={"sequence": registration.invite_sequence(event)},
    )


async def seat_counts(
    session: AsyncSession, event_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Confirmed and waitlisted counts per event, for listings."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(
            Registration.event_id.in_(event_ids),
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .group_by(Registration.event_id, Registration.status)
    )
    counts = {event_id: (0, 0) for event_id in event_ids}
    for event_id, status, number in rows.all():
        confirmed, waiting = counts[event_id]
        if status == RegistrationStatus.CONFIRMED:
            counts[event_id] = (number, waiting)
        else:
            counts[event_id] = (confirmed, number)
    return counts
