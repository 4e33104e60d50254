"""The FIFO waitlist: positions, promotion when a seat frees, and an organiser's seat for
someone in line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.capacity import add_seat
from events.errors import EventNotFound
from events.models import Event, EventStatus
from events.opening import MSG_CANCELLED, MSG_NOT_PUBLISHED, BookingClosed
from events.schedule import lock_event
from foundation.ids import is_id
from foundation.timestamps import utcnow
from mail.models import MessageKind
from mail.outbox import enqueue
from registrations import dedupe_keys, errors
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
    free = event.capacity - event.confirmed_count
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


@dataclass(frozen=True)
class SeatOffer:
    """What giving `registration` (in line) a seat would do now: with a seat free (an event
    that has begun keeps a freed seat empty) they take it; otherwise `adds_seat`, and the
    capacity grows from `capacity` to `capacity + 1` for them alone. `seen` is these seats
    as shown, which the confirmation carries back (give_seat)."""

    registration: Registration
    position: int
    capacity: int
    confirmed: int

    @property
    def adds_seat(self) -> bool:
        return self.confirmed >= self.capacity

    @property
    def seen(self) -> str:
        return f"{self.capacity}:{self.confirmed}"


@dataclass(frozen=True)
class SeatGiven:
    """Who got a seat, and the capacity before and after (equal when a free seat was used)."""

    registration: Registration
    capacity_before: int
    capacity: int


async def seat_offer(
    session: AsyncSession, *, event_id: int, registration_id: int, now: datetime
) -> SeatOffer:
    """What `give_seat` would do now, for the organiser's confirmation page; writes
    nothing. Raises what give_seat raises but SeatsChanged."""
    event = await session.get(Event, event_id) if is_id(event_id) else None
    registration = await _waiting(session, event, registration_id, now)
    assert event is not None  # _waiting refuses a missing event
    return SeatOffer(
        registration=registration,
        position=await waitlist_position(session, registration) or 0,
        capacity=event.capacity,
        confirmed=await count_confirmed(session, event.id),
    )


async def give_seat(
    session: AsyncSession,
    *,
    event_id: int,
    registration_id: int,
    seen: str,
    now: datetime | None = None,
) -> SeatGiven:
    """An organiser gives someone in line a seat, whatever their place; they get the invite
    as anyone promoted does. A free seat is theirs; when every seat is taken the capacity
    grows by one for them (events.capacity.add_seat), so nobody else in line moves and
    confirmed seats still never exceed the capacity. Under the event's lock.

    `seen` is the SeatOffer.seen the organiser confirmed. Raises SeatsChanged when the seats
    are no longer as seen (no seat is added that was not announced), RegistrationNotFound,
    BookingClosed (the event is cancelled, not published or over), or NotWaitlisted.
    """
    now = now or utcnow()
    event = await lock_event(session, event_id)
    registration = await _waiting(session, event, registration_id, now)
    assert event is not None  # _waiting refuses a missing event
    confirmed = await count_confirmed(session, event.id)
    if seen != f"{event.capacity}:{confirmed}":
        raise errors.SeatsChanged()
    before = event.capacity
    if confirmed >= event.capacity:
        add_seat(session, event, now)
    await _promote(session, event, registration, now)
    return SeatGiven(registration=registration, capacity_before=before, capacity=event.capacity)


async def _waiting(
    session: AsyncSession, event: Event | None, registration_id: int, now: datetime
) -> Registration:
    """The registration `registration_id` of `event`, in line for an event that still seats
    people. Raises RegistrationNotFound, BookingClosed or NotWaitlisted."""
    registration = (
        await session.scalar(
            select(Registration)
            .where(Registration.id == registration_id, Registration.event_id == event.id)
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
    return registration


async def first_in_line(session: AsyncSession, event_id: int, number: int) -> list[str]:
    """The names of the first `number` in line, in order: who a raise of the capacity by
    `number` seats moves up."""
    if number <= 0:
        return []
    names = await session.scalars(
        select(Registration.name)
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.waitlist_number)
        .limit(number)
    )
    return list(names.all())


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
    event.confirmed_count += 1
    event.waitlisted_count -= 1
    await enqueue(
        session,
        kind=MessageKind.PROMOTED,
        recipient=registration.email,
        dedupe_key=dedupe_keys.promoted(registration.id, now),
        event_id=event.id,
        registration_id=registration.id,
        payload={"sequence": registration.invite_sequence(event)},
    )


async def seat_counts(
    session: AsyncSession, event_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Confirmed and waitlisted counts per event, for listings: the event's own counters,
    kept in step with its registrations in the same transaction as every booking,
    cancellation and promotion (check_counters finds any drift), so as exact as a count."""
    if not event_ids:
        return {}
    counts = {event_id: (0, 0) for event_id in event_ids}
    rows = await session.execute(
        select(Event.id, Event.confirmed_count, Event.waitlisted_count).where(
            Event.id.in_(event_ids)
        )
    )
    for event_id, confirmed, waitlisted in rows.all():
        counts[event_id] = (confirmed, waitlisted)
    return counts


@dataclass(frozen=True)
class CounterDrift:
    """An event whose counters differ from its registrations: (counter, count) each."""

    event_id: int
    confirmed: tuple[int, int]
    waitlisted: tuple[int, int]


async def check_counters(session: AsyncSession) -> list[CounterDrift]:
    """Every event whose `confirmed_count` or `waitlisted_count` differs from the number of
    its registrations in that status; [] when all agree, as they must (the booking hot path
    trusts `confirmed_count`). One query; for tests and the operator."""

    def counted(status: RegistrationStatus) -> Any:
        return (
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == Event.id, Registration.status == status)
            .scalar_subquery()
        )

    confirmed, waitlisted = (
        counted(RegistrationStatus.CONFIRMED),
        counted(RegistrationStatus.WAITLISTED),
    )
    rows = await session.execute(
        select(Event.id, Event.confirmed_count, confirmed, Event.waitlisted_count, waitlisted)
        .where((Event.confirmed_count != confirmed) | (Event.waitlisted_count != waitlisted))
        .order_by(Event.id)
    )
    return [CounterDrift(row[0], (row[1], row[2]), (row[3], row[4])) for row in rows.all()]
