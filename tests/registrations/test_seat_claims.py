"""The booking hot path (registrations.seat_claims, issue 11) keeps every booking rule, and
each event's seat counters always equal its registrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from events.errors import EventNotFound
from events.models import Event
from events.opening import BookingClosed
from events.schedule import EventChanges
from foundation.errors import DomainError
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import MessageKind, OutboxMessage
from registrations import booking, organising, waitlist
from registrations.models import AttendeeFeed, Registration, RegistrationStatus
from tests.conftest import SECRET
from tests.factories import make_event, person


async def rows_of(services: Services, event_id: int) -> list[tuple[Registration, OutboxMessage]]:
    """Each registration of the event with its booking mail, in booking order."""
    async with services.transaction() as session:
        found = await session.execute(
            select(Registration, OutboxMessage)
            .join(OutboxMessage, OutboxMessage.registration_id == Registration.id)
            .where(Registration.event_id == event_id, OutboxMessage.dedupe_key.like("booked:%"))
            .order_by(Registration.id)
        )
        return [(r, m) for r, m in found.all()]


async def counters_agree(services: Services) -> None:
    async with services.transaction() as session:
        assert await waitlist.check_counters(session) == []


async def test_seats_then_a_fifo_line_each_with_its_mail_and_language(services: Services) -> None:
    event = await make_event(services, capacity=2)
    results = [
        await booking.book_now(services, event_id=event.id, attendee=person(n, language="en"))
        for n in range(4)
    ]
    assert [(r.created, r.confirmed, r.waitlist_position) for r in results] == [
        (True, True, None),
        (True, True, None),
        (True, False, 1),
        (True, False, 2),
    ]
    rows = await rows_of(services, event.id)
    assert [(r.status, r.waitlist_number, r.language) for r, _ in rows] == [
        (RegistrationStatus.CONFIRMED, None, "en"),
        (RegistrationStatus.CONFIRMED, None, "en"),
        (RegistrationStatus.WAITLISTED, 1, "en"),
        (RegistrationStatus.WAITLISTED, 2, "en"),
    ]
    assert [(m.kind, m.payload, m.recipient) for _, m in rows] == [
        (MessageKind.BOOKING_CONFIRMED, {"sequence": 0, "position": None}, person(0).email),
        (MessageKind.BOOKING_CONFIRMED, {"sequence": 0, "position": None}, person(1).email),
        (MessageKind.WAITLISTED, {"sequence": 0, "position": 1}, person(2).email),
        (MessageKind.WAITLISTED, {"sequence": 0, "position": 2}, person(3).email),
    ]
    # The link mailed is the one stored (only as a hash), and the personal feed exists.
    async with services.transaction() as session:
        found = await booking.find_by_token(session, results[2].manage_token or "")
        assert found.id == rows[2][0].id
        feed = await session.scalar(
            select(AttendeeFeed).where(AttendeeFeed.email_normalised == "person2@kommun.example.se")
        )
        assert feed is not None
    await counters_agree(services)


async def test_a_repeat_and_a_rebooking_keep_their_rules(services: Services) -> None:
    event = await make_event(services, capacity=1)
    first = await booking.book_now(services, event_id=event.id, attendee=person(1))
    again = await booking.book_now(
        services, event_id=event.id, attendee=person(1, email="PERSON1@kommun.example.se")
    )
    assert again.created is False
    assert again.registration.id == first.registration.id
    async with services.transaction() as session:
        await booking.cancel(session, token=first.manage_token or "")
    rebooked = await booking.book_now(services, event_id=event.id, attendee=person(1))
    assert rebooked.created
    assert rebooked.confirmed
    assert rebooked.registration.id == first.registration.id
    assert len(await rows_of(services, event.id)) == 2  # the first booking and the rebooking
    await counters_agree(services)


@pytest.mark.parametrize(
    "refusal", ["draft", "cancelled", "not yet open", "closed", "begun", "no such event"]
)
async def test_an_event_that_cannot_be_booked_stores_nothing(
    services: Services, refusal: str
) -> None:
    now = utcnow()
    refusals: dict[str, dict[str, Any]] = {
        "draft": {"publish": False},
        "cancelled": {},
        "not yet open": {"registration_opens_at": now + timedelta(days=1)},
        "closed": {"registration_closes_at": now - timedelta(minutes=1)},
        "begun": {"starts_at": now - timedelta(minutes=5), "ends_at": now + timedelta(hours=1)},
        "no such event": {},
    }
    overrides = refusals[refusal]
    event = await make_event(services, **overrides)
    event_id = event.id + 1000 if refusal == "no such event" else event.id
    if refusal == "cancelled":
        async with services.transaction() as session:
            await organising.cancel_event(session, event.id)
    expected = EventNotFound if refusal in ("draft", "no such event") else BookingClosed
    with pytest.raises(expected):
        await booking.book_now(services, event_id=event_id, attendee=person(1))
    async with services.transaction() as session:
        assert (await session.scalars(select(Registration))).all() == []
        assert (await session.scalars(select(AttendeeFeed))).all() == []


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.integers(0, 7)),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
        st.tuples(st.just("capacity"), st.integers(1, 6)),
        st.tuples(st.just("seat"), st.integers(0, 7)),
        st.tuples(st.just("by hand"), st.integers(0, 7)),
    ),
    min_size=1,
    max_size=25,
)


# Few examples: each runs a whole history on a real database, twice (SQLite, PostgreSQL).
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
async def test_the_counters_equal_the_counts_whatever_happens(
    services: Services, steps: list[tuple[str, int]]
) -> None:
    """Bookings (hot path), cancellations with promotion, capacity changes, seats given by an
    organiser and people added by hand, in any order: every event's counters equal its
    registrations after each step, and confirmed seats never exceed the capacity."""
    event = await make_event(services, capacity=2)
    for step, n in steps:
        try:
            if step == "book":
                await booking.book_now(services, event_id=event.id, attendee=person(n))
                continue
            async with services.transaction() as session:
                held = await session.scalar(
                    select(Registration).where(
                        Registration.event_id == event.id,
                        Registration.email_normalised == person(n).email_normalised,
                    )
                )
                if step == "cancel" and held is not None:
                    await booking.cancel_by_id(session, event_id=event.id, registration_id=held.id)
                elif step == "capacity":
                    await organising.update_event(session, event.id, EventChanges(capacity=n))
                elif step == "seat" and held is not None:
                    offer = await waitlist.seat_offer(
                        session, event_id=event.id, registration_id=held.id, now=utcnow()
                    )
                    await waitlist.give_seat(
                        session, event_id=event.id, registration_id=held.id, seen=offer.seen
                    )
                elif step == "by hand":
                    await booking.add_by_hand(
                        session, event_id=event.id, attendee=person(n), secret_key=SECRET
                    )
        except DomainError:  # refused by the rules: below the confirmed, not in line, …
            pass
        async with services.transaction() as session:
            assert await waitlist.check_counters(session) == []
            seats = await waitlist.seat_counts(session, [event.id])
            capacity = (await session.get_one(Event, event.id)).capacity
            assert seats[event.id][0] <= capacity


async def test_one_address_booking_many_times_at_once_gets_one_registration(
    services: Services,
) -> None:
    """Double clicks racing each other: one seat, one mail, the same registration for all
    (on PostgreSQL the losers' inserts hit the unique key and `book` answers them)."""
    event = await make_event(services, capacity=5)
    results = await asyncio.gather(
        *(booking.book_now(services, event_id=event.id, attendee=person(1)) for _ in range(8))
    )
    assert {r.registration.id for r in results} == {results[0].registration.id}
    assert sum(r.created for r in results) == 1
    assert len(await rows_of(services, event.id)) == 1
    await counters_agree(services)
