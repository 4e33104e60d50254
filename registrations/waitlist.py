"""The FIFO waitlist: positions, and promotion when a seat frees."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from foundation.timestamps import utcnow
from mail.models import MessageKind
from mail.outbox import enqueue
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
    return promoted


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
