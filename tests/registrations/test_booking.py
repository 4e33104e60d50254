"""Every booking rule from DESIGN.md, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from events.errors import EventNotFound
from events.opening import BookingClosed
from events.schedule import EventChanges
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import MessageKind, OutboxMessage
from registrations import booking, errors
from registrations.attendee import validate_attendee
from registrations.models import AttendeeFeed, Registration, RegistrationStatus
from registrations.organising import cancel_event, update_event
from tests.conftest import SECRET
from tests.factories import SOON, make_event, make_series, person


async def book(services: Services, event_id: int, n: int, **kw: str) -> booking.BookingResult:
    async with services.transaction() as session:
        return await booking.book(
            session, event_id=event_id, attendee=person(n, **kw), secret_key=SECRET
        )


async def cancel(services: Services, token: str | None) -> None:
    assert token is not None, "a new booking has a manage link"
    async with services.transaction() as session:
        await booking.cancel(session, token=token)


async def statuses(services: Services, event_id: int) -> dict[str, str]:
    async with services.transaction() as session:
        rows = await session.scalars(select(Registration).where(Registration.event_id == event_id))
        return {r.email: r.status.value for r in rows}


async def outbox(services: Services) -> list[tuple[str, str]]:
    async with services.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.kind.value, m.recipient) for m in rows]


async def test_seats_then_fifo_waitlist(services: Services) -> None:
    event = await make_event(services, capacity=2)
    results = [await book(services, event.id, n) for n in range(1, 5)]
    assert [r.registration.status for r in results] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
    ]
    assert [r.waitlist_position for r in results] == [None, None, 1, 2]
    kinds = [kind for kind, _ in await outbox(services)]
    assert kinds == ["booking_confirmed", "booking_confirmed", "waitlisted", "waitlisted"]


async def test_cancelling_promotes_the_first_in_line(services: Services) -> None:
    event = await make_event(services, capacity=1)
    first = await book(services, event.id, 1)
    await book(services, event.id, 2)
    await book(services, event.id, 3)
    await cancel(services, first.manage_token)
    assert await statuses(services, event.id) == {
        "person1@kommun.example.se": "cancelled",
        "person2@kommun.example.se": "confirmed",
        "person3@kommun.example.se": "waitlisted",
    }
    sent = await outbox(services)
    assert ("registration_cancelled", "person1@kommun.example.se") in sent
    assert ("promoted", "person2@kommun.example.se") in sent
    assert ("promoted", "person3@kommun.example.se") not in sent


async def test_leaving_the_waitlist_moves_others_up(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    second = await book(services, event.id, 2)
    await book(services, event.id, 3)
    await cancel(services, second.manage_token)
    again = await book(services, event.id, 3)
    assert again.waitlist_position == 1
    # Leaving the line frees no seat, so nobody is promoted.
    assert ("promoted", "person3@kommun.example.se") not in await outbox(services)


async def test_raising_capacity_promotes_in_order(services: Services) -> None:
    event = await make_event(services, capacity=1)
    for n in range(1, 5):
        await book(services, event.id, n)
    async with services.transaction() as session:
        await update_event(session, event.id, EventChanges(capacity=3))
    assert await statuses(services, event.id) == {
        "person1@kommun.example.se": "confirmed",
        "person2@kommun.example.se": "confirmed",
        "person3@kommun.example.se": "confirmed",
        "person4@kommun.example.se": "waitlisted",
    }


async def test_booking_twice_returns_the_same_registration(services: Services) -> None:
    event = await make_event(services)
    first = await book(services, event.id, 1)
    again = await book(services, event.id, 1, email="PERSON1@Kommun.Example.SE ")
    assert again.created is False
    assert again.registration.id == first.registration.id
    # Knowing the address is not enough to get the manage link back.
    assert again.manage_token is None
    assert len(await statuses(services, event.id)) == 1
    # Right after the booking its own mail is on its way: a repeat (a double click) adds none.
    assert [k for k, _ in await outbox(services)] == ["booking_confirmed"]
    # Later the link is sent again, once however often it is asked for within the hour.
    later = utcnow() + booking.RESEND_QUIET + timedelta(seconds=1)
    for _ in range(2):
        async with services.transaction() as session:
            await booking.book(
                session, event_id=event.id, attendee=person(1), secret_key=SECRET, now=later
            )
    assert [k for k, _ in await outbox(services)] == ["booking_confirmed", "booking_confirmed"]


async def test_rebooking_after_cancelling_takes_a_new_place(services: Services) -> None:
    event = await make_event(services, capacity=1)
    first = await book(services, event.id, 1)
    await cancel(services, first.manage_token)
    await book(services, event.id, 2)
    again = await book(services, event.id, 1)
    assert again.created is True
    assert again.registration.id == first.registration.id
    # The old link no longer opens the rebooked registration.
    assert again.manage_token not in (None, first.manage_token)
    async with services.transaction() as session:
        with pytest.raises(errors.RegistrationNotFound):
            await booking.find_by_token(session, first.manage_token or "")
    assert again.registration.status == RegistrationStatus.WAITLISTED
    assert again.waitlist_position == 1


async def test_registration_window(services: Services) -> None:
    now = utcnow()
    later = await make_event(services, registration_opens_at=now + timedelta(days=1))
    with pytest.raises(BookingClosed, match="har inte öppnat"):
        await book(services, later.id, 1)
    closed = await make_event(
        services,
        registration_closes_at=now - timedelta(minutes=1),
        registration_opens_at=now - timedelta(days=2),
    )
    with pytest.raises(BookingClosed, match="stängt"):
        await book(services, closed.id, 1)
    # A draft is never public, so booking one is booking no event: nothing tells it exists.
    draft = await make_event(services, publish=False)
    with pytest.raises(EventNotFound):
        await book(services, draft.id, 1)
    cancelled = await make_event(services)
    async with services.transaction() as session:
        await cancel_event(session, cancelled.id)
    with pytest.raises(BookingClosed, match="inställt"):
        await book(services, cancelled.id, 1)
    with pytest.raises(EventNotFound):
        await book(services, 999_999, 1)
    assert await outbox(services) == []
    # A refused booking stores nothing, not even the address's personal feed.
    async with services.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AttendeeFeed)) == 0


async def test_started_event_cannot_be_booked(services: Services) -> None:
    now = utcnow()
    started = await make_event(
        services, starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=55)
    )
    with pytest.raises(BookingClosed, match="redan börjat"):
        await book(services, started.id, 1)


async def test_booking_a_whole_series(services: Services) -> None:
    events = await make_series(services, events=3)
    async with services.transaction() as session:
        await update_event(session, events[1].id, EventChanges(capacity=1))
    await book(services, events[1].id, 9)  # fills the second café
    async with services.transaction() as session:
        result = await booking.book_series(
            session, series_slug="cafeer", attendee=person(1), secret_key=SECRET
        )
    assert [r.registration.status.value for r in result.booked] == [
        "confirmed",
        "waitlisted",
        "confirmed",
    ]
    assert len({r.manage_token for r in result.booked}) == 3
    assert result.skipped == []


async def test_manage_token_is_stored_only_as_a_hash(services: Services) -> None:
    event = await make_event(services)
    result = await book(services, event.id, 1)
    token = result.manage_token
    assert token is not None
    async with services.transaction() as session:
        row = await session.get(Registration, result.registration.id)
        assert row is not None
        assert token not in (row.manage_token_hash, row.token_nonce)
        found = await booking.find_by_token(session, token)
        assert found.id == row.id
        for bad in ("", "x" * 43, token[:-1] + "A", "../../etc/passwd"):
            if bad == token:
                continue
            with pytest.raises(errors.RegistrationNotFound):
                await booking.find_by_token(session, bad)


def test_attendee_validation_messages() -> None:
    with pytest.raises(errors.InvalidAttendee) as caught:
        validate_attendee(name=" ", email="inte-en-adress", consent=False)
    assert set(caught.value.fields) == {"name", "email", "consent"}
    ok = validate_attendee(name="  Anna   Ek ", email="Anna@Example.se", consent=True)
    assert ok.name == "Anna Ek"
    assert ok.email_normalised == "anna@example.se"


async def test_changes_reach_confirmed_attendees_once(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    async with services.transaction() as session:
        updated = await update_event(
            session, event.id, EventChanges(starts_at=SOON + timedelta(hours=2))
        )
    assert updated.sequence == 1
    assert updated.ends_at - updated.starts_at == timedelta(hours=1)
    sent = await outbox(services)
    assert sent.count(("event_changed", "person1@kommun.example.se")) == 1
    # The one in line is told once too, without an invite (notices.compose): no calendar entry.
    assert sent.count(("event_changed", "person2@kommun.example.se")) == 1
    # A change that does not move the event in calendars sends nothing.
    async with services.transaction() as session:
        same = await update_event(session, event.id, EventChanges(summary="Ny ingress"))
    assert same.sequence == 1
    assert len(await outbox(services)) == len(sent)
    async with services.transaction() as session:
        await cancel_event(session, event.id)
    sent = await outbox(services)
    assert (MessageKind.EVENT_CANCELLED.value, "person1@kommun.example.se") in sent
    assert (MessageKind.EVENT_CANCELLED.value, "person2@kommun.example.se") in sent


async def test_no_promotion_into_an_event_that_has_begun(services: Services) -> None:
    now = utcnow()
    event = await make_event(
        services,
        capacity=1,
        starts_at=now + timedelta(minutes=10),
        ends_at=now + timedelta(hours=1),
    )
    first = await book(services, event.id, 1)
    await book(services, event.id, 2)
    async with services.transaction() as session:
        await booking.cancel(
            session, token=first.manage_token or "", now=now + timedelta(minutes=20)
        )
    assert (await statuses(services, event.id))["person2@kommun.example.se"] == "waitlisted"
    assert ("promoted", "person2@kommun.example.se") not in await outbox(services)
