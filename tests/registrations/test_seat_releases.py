"""The cancellation hot path (registrations.seat_releases, issue 11) writes exactly what
`booking.cancel` writes, keeps the seats and the FIFO line under concurrency, and leaves
what it does not handle to `cancel`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update

from events.models import Event
from foundation.errors import DomainError
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import MessageKind, OutboxMessage
from registrations import booking, errors, organising, waitlist
from registrations.models import Registration, RegistrationStatus
from registrations.seat_releases import Released, release_seat
from tests.factories import csrf_in, make_event, person

Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


async def hot(services: Services, token: str) -> Released:
    """A cancellation by the hot path, which must take it (nothing here races it)."""
    released = await release_seat(services.hot_engine or services.engine, token=token, now=utcnow())
    assert released is not None, "the hot path handed a plain cancellation to the ORM"
    return released


async def by_orm(services: Services, token: str) -> None:
    async with services.transaction() as session:
        await booking.cancel(session, token=token)


async def snapshot(services: Services, event_ids: list[int]) -> Snapshot:
    """What a user or the worker could notice of these events, ids and times left out:
    each event's counters; each registration's state, by event and address; each outbox
    row, its registration named as that and a promotion's instant left out of its key."""
    place = {event_id: n for n, event_id in enumerate(event_ids)}
    async with services.transaction() as session:
        events = [
            (place[e.id], e.status, e.confirmed_count, e.waitlisted_count, e.waitlist_counter)
            for e in await session.scalars(select(Event).where(Event.id.in_(event_ids)))
        ]
        found = (
            await session.scalars(select(Registration).where(Registration.event_id.in_(event_ids)))
        ).all()
        who = {r.id: (place[r.event_id], r.email) for r in found}
        registrations = [
            (
                *who[r.id],
                r.status,
                r.waitlist_number,
                r.sequence_bump,
                r.confirmed_at is None,
                r.cancelled_at is None,
            )
            for r in found
        ]
        mail = []
        for m in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id.in_(event_ids))
        ):
            prefix, registration_id, *rest = m.dedupe_key.split(":")
            assert registration_id == str(m.registration_id), m.dedupe_key
            if m.kind == MessageKind.PROMOTED:
                rest = ["<instant>"]
            key = (prefix, who[int(registration_id)], *rest)
            mail.append((m.kind, m.recipient, key, place[m.event_id or 0], m.payload, m.status))
    return sorted(events), sorted(registrations), sorted(mail, key=repr)


PEOPLE = st.integers(0, 4)
STEPS = st.lists(
    st.one_of(
        # Bookings and cancellations first among equals: a line forms, and cancellations
        # free seats that someone waits for.
        st.tuples(st.just("book"), PEOPLE),
        st.tuples(st.just("book"), PEOPLE),
        st.tuples(st.just("cancel"), PEOPLE),
        st.tuples(st.just("cancel"), PEOPLE),
        st.tuples(st.just("old link"), PEOPLE),
        st.tuples(st.just("begin"), st.just(0)),
        st.tuples(st.just("cancel event"), st.just(0)),
    ),
    min_size=1,
    max_size=30,
)


# Few examples: each runs a history twice on a real database, on SQLite and PostgreSQL.
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(capacity=st.integers(1, 3), steps=STEPS)
# The rules each, besides what hypothesis draws: the line's order; no promotion once the
# event has begun or is cancelled; a cancelled link; a rebooking's old link.
@example(capacity=1, steps=[("book", 0), ("book", 1), ("book", 2), ("cancel", 0), ("cancel", 1)])
@example(capacity=1, steps=[("book", 0), ("book", 1), ("begin", 0), ("cancel", 0)])
@example(capacity=1, steps=[("book", 0), ("book", 1), ("cancel event", 0), ("cancel", 0)])
@example(
    capacity=2, steps=[("book", 0), ("cancel", 0), ("cancel", 0), ("book", 0), ("old link", 0)]
)
async def test_the_hot_path_writes_what_cancel_writes(
    services: Services, capacity: int, steps: list[tuple[str, int]]
) -> None:
    """The same history of bookings and cancellations (by the latest link or the first one;
    the event full, with a line, begun or cancelled) at two events alike: the one cancelled
    through by the hot path ends with the same registrations, counters and outbox rows as
    the one cancelled by `cancel`."""
    events = [(await make_event(services, capacity=capacity)).id for _ in range(2)]
    tokens: dict[tuple[int, int], list[str]] = {}
    for step, n in steps:
        outcomes: list[type[DomainError] | None] = []
        for w, event_id in enumerate(events):
            links = tokens.setdefault((w, n), [])
            try:
                if step == "book":
                    result = await booking.book_now(services, event_id=event_id, attendee=person(n))
                    if result.manage_token is not None:
                        links.append(result.manage_token)
                elif step in ("cancel", "old link") and links:
                    link = links[-1] if step == "cancel" else links[0]
                    await (hot(services, link) if w == 0 else by_orm(services, link))
                elif step == "begin":
                    now = utcnow()
                    async with services.transaction() as session:
                        await session.execute(
                            update(Event)
                            .where(Event.id == event_id)
                            .values(
                                starts_at=now - timedelta(minutes=1),
                                ends_at=now + timedelta(hours=1),
                            )
                        )
                elif step == "cancel event":
                    async with services.transaction() as session:
                        await organising.cancel_event(session, event_id)
                outcomes.append(None)
            except DomainError as exc:  # refused by the rules: closed, not found, …
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1], (step, n)
        assert await snapshot(services, events[:1]) == await snapshot(services, events[1:])
    async with services.transaction() as session:
        assert await waitlist.check_counters(session) == []


async def line_of(services: Services, event_id: int) -> list[Registration]:
    async with services.transaction() as session:
        found = await session.scalars(
            select(Registration).where(Registration.event_id == event_id).order_by(Registration.id)
        )
        return list(found.all())


async def test_a_freed_seat_goes_to_the_first_in_line_with_the_invite(services: Services) -> None:
    event = await make_event(services, capacity=1)
    first, second, _ = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(3)
    ]
    released = await hot(services, first.manage_token or "")
    assert released.changed
    assert released.registration.status == RegistrationStatus.CANCELLED
    assert released.promoted == (second.registration.id,)
    rows = await line_of(services, event.id)
    assert [(r.status, r.waitlist_number) for r in rows] == [
        (RegistrationStatus.CANCELLED, None),
        (RegistrationStatus.CONFIRMED, None),
        (RegistrationStatus.WAITLISTED, 2),
    ]
    async with services.transaction() as session:
        mail = (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.kind.in_(
                        [MessageKind.REGISTRATION_CANCELLED, MessageKind.PROMOTED]
                    )
                )
                .order_by(OutboxMessage.id)
            )
        ).all()
        assert [(m.kind, m.recipient, m.payload) for m in mail] == [
            (
                MessageKind.REGISTRATION_CANCELLED,
                person(0).email,
                {"sequence": 1, "was_confirmed": True},
            ),
            (MessageKind.PROMOTED, person(1).email, {"sequence": 0}),
        ]
        assert mail[0].dedupe_key == f"cancelled:{first.registration.id}:1"
        assert mail[1].dedupe_key.startswith(f"promoted:{second.registration.id}:")
        assert await waitlist.check_counters(session) == []
    # Cancelled already: nothing changes, nothing more is mailed.
    again = await hot(services, first.manage_token or "")
    assert (again.changed, again.promoted) == (False, ())
    assert again.registration.status == RegistrationStatus.CANCELLED
    async with services.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 5


@pytest.mark.parametrize("token", ["", "x" * 43, "not a token at all", "A" * 42 + "!"])
async def test_an_unknown_or_malformed_link_is_not_found(services: Services, token: str) -> None:
    event = await make_event(services, capacity=1)
    await booking.book_now(services, event_id=event.id, attendee=person(1))
    with pytest.raises(errors.RegistrationNotFound):
        await release_seat(services.hot_engine or services.engine, token=token, now=utcnow())
    with pytest.raises(errors.RegistrationNotFound):
        await booking.cancel_now(services, token=token)


@pytest.mark.parametrize("state", ["begun", "cancelled"])
async def test_nobody_is_promoted_at_an_event_begun_or_cancelled(
    services: Services, state: str
) -> None:
    event = await make_event(services, capacity=1)
    first, _ = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(2)
    ]
    async with services.transaction() as session:
        if state == "begun":
            now = utcnow()
            await session.execute(
                update(Event)
                .where(Event.id == event.id)
                .values(starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1))
            )
        else:
            await organising.cancel_event(session, event.id)
    released = await hot(services, first.manage_token or "")
    assert (released.changed, released.promoted) == (True, ())
    rows = await line_of(services, event.id)
    assert [r.status for r in rows] == [RegistrationStatus.CANCELLED, RegistrationStatus.WAITLISTED]


async def test_a_lost_connection_leaves_the_cancellation_to_cancel(services: Services) -> None:
    """PostgreSQL: the hot pool's connection was ended by the server; the hot path answers
    None, having written nothing, and cancel_now cancels through `cancel`."""
    if services.settings.is_sqlite:
        pytest.skip("SQLite's one connection is a file, not a server that can drop it")
    event = await make_event(services, capacity=1)
    first, _ = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(2)
    ]
    hot_engine = services.hot_engine
    assert hot_engine is not None
    assert hot_engine is not services.engine
    async with hot_engine.connect() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    async with services.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(0.1)
    assert await release_seat(hot_engine, token=first.manage_token or "", now=utcnow()) is None
    assert [r.status for r in await line_of(services, event.id)] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
    ]
    await hot_engine.dispose()  # the next one on a fresh connection, but through cancel_now
    cancelled = await booking.cancel_now(services, token=first.manage_token or "")
    assert cancelled.status == RegistrationStatus.CANCELLED
    assert [r.status for r in await line_of(services, event.id)] == [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.CONFIRMED,
    ]


async def test_cancellations_and_bookings_at_once_keep_the_seats_and_the_line(
    services: Services,
) -> None:
    """Many cancellations (some of one link twice) and new bookings at once on an event of
    four seats: never more than four confirmed, no seat free while anyone waits, the line
    promoted in its order, and the counters equal to the counts."""
    capacity = 4
    event = await make_event(services, capacity=capacity)
    booked = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(30)
    ]
    numbers = {b.registration.id: b.registration.waitlist_number for b in booked}
    leaving = [booked[n].manage_token or "" for n in (0, 1, 2, 3, 4, 5, 7, 9, 12, 20)]
    work: list[Coroutine[Any, Any, object]] = [
        booking.cancel_now(services, token=t) for t in leaving + leaving[:3]
    ]
    work += [
        booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(100, 110)
    ]
    await asyncio.gather(*work)
    rows = await line_of(services, event.id)
    confirmed = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
    waiting = [r for r in rows if r.status == RegistrationStatus.WAITLISTED]
    assert len(confirmed) == capacity  # full: someone still waits
    assert waiting
    # FIFO: whoever was promoted was ahead of everyone still waiting, and no newcomer got
    # a seat while someone booked before them waited.
    promoted = [numbers[r.id] for r in confirmed if numbers.get(r.id) is not None]
    still = [r.waitlist_number or 0 for r in waiting]
    assert all(p is not None and p < min(still) for p in promoted)
    assert all(r.id in numbers for r in confirmed)
    assert [r.waitlist_number for r in sorted(waiting, key=lambda r: r.id)] == sorted(still)
    async with services.transaction() as session:
        assert await waitlist.check_counters(session) == []
        cancels = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == MessageKind.REGISTRATION_CANCELLED)
        )
        invited = (
            await session.scalars(
                select(OutboxMessage.registration_id).where(
                    OutboxMessage.kind == MessageKind.PROMOTED
                )
            )
        ).all()
    assert cancels == len(leaving)  # one mail per cancellation, however many clicks
    # One invite for each promoted (some of whom then left), and only to someone in line.
    assert len(invited) == len(set(invited))
    assert {r.id for r in confirmed if numbers.get(r.id) is not None} <= set(invited)
    assert all(r is not None and numbers.get(r) is not None for r in invited)


async def test_a_rush_of_cancellations_at_one_event_stays_on_the_hot_path(
    services: Services,
) -> None:
    """Ten cancellations of one event at once: each that finds the seats moved between its
    read and the event's lock (PostgreSQL) goes again holding the lock, and none is left to
    `cancel`; ten promoted, in the line's order."""
    event = await make_event(services, capacity=10)
    booked = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(25)
    ]
    engine = services.hot_engine or services.engine
    released = await asyncio.gather(
        *(release_seat(engine, token=b.manage_token or "", now=utcnow()) for b in booked[:10])
    )
    assert all(r is not None and r.changed for r in released)
    promoted = sorted(p for r in released if r is not None for p in r.promoted)
    assert promoted == sorted(b.registration.id for b in booked[10:20])
    async with services.transaction() as session:
        assert await waitlist.check_counters(session) == []


async def test_the_pages_and_the_api_cancel_through_the_hot_path(
    services: Services, client: Any
) -> None:
    """DELETE /api/v1/manage/{token} and the cancel form cancel, and the seat goes on."""
    event = await make_event(services, capacity=1)
    first, _ = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(2)
    ]
    answer = await client.delete(f"/api/v1/manage/{first.manage_token}")
    assert answer.status_code == 200
    assert answer.json() == {"status": "cancelled"}
    assert [r.status for r in await line_of(services, event.id)] == [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.CONFIRMED,
    ]
    assert (await client.delete(f"/api/v1/manage/{first.manage_token}")).json() == {
        "status": "cancelled"
    }
    assert (await client.delete("/api/v1/manage/" + "x" * 43)).status_code == 404
    # The page: asked first, then cancelled with the form's CSRF token, and back to the
    # booking's page; without the token nothing changes.
    event = await make_event(services, capacity=1)
    first, _ = [
        await booking.book_now(services, event_id=event.id, attendee=person(n)) for n in range(2)
    ]
    manage = f"/manage/{first.manage_token}"
    refused = await client.post(f"{manage}/cancel", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert [r.status for r in await line_of(services, event.id)] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
    ]
    asked = await client.get(f"{manage}/cancel")
    done = await client.post(f"{manage}/cancel", data={"csrf_token": csrf_in(asked.text)})
    assert done.status_code == 303
    assert done.headers["location"] == f"http://testserver{manage}?done=cancelled"
    assert [r.status for r in await line_of(services, event.id)] == [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.CONFIRMED,
    ]
