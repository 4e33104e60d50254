"""The rules every way of creating or changing an event meets, on SQLite and PostgreSQL.

Pages, the command line and the API call these domain functions, so each rule is held here
once: times within 2000..2100 and a minute to a day long, not in the past unless meant,
capacity 1..100 000 and never below the seats already confirmed, ids no row can have
answered as "not found", and text through foundation.text's rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from events.errors import EventInPast, EventNotFound, InvalidEvent, SeriesNotFound
from events.models import Event
from events.schedule import EventChanges, EventDraft, create_event, create_series, publish_event
from foundation.services import Services
from foundation.text import refused_character
from foundation.timestamps import utcnow
from mail.models import OutboxMessage
from registrations import booking
from registrations.models import Registration, RegistrationStatus
from registrations.organising import cancel_event, update_event
from tests.conftest import SECRET
from tests.factories import SOON, make_event, person

HOUR = timedelta(hours=1)


def draft(**overrides: Any) -> EventDraft:
    fields: dict[str, Any] = {
        "title": "Lunchkafé",
        "starts_at": SOON,
        "ends_at": SOON + HOUR,
        "capacity": 20,
        "join_url": "https://meet.example.se/rum",  # a published event has a place
        "publish": True,
    }
    fields.update(overrides)
    return EventDraft(**fields)


async def create(services: Services, **overrides: Any) -> Event:
    async with services.transaction() as session:
        return await create_event(session, draft(**overrides), site_domain="test.example")


async def change(services: Services, event_id: int, **changes: Any) -> Event:
    async with services.transaction() as session:
        return await update_event(session, event_id, EventChanges(**changes))


async def reload(services: Services, event_id: int) -> Event:
    async with services.transaction() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        return event


async def count_events(services: Services) -> int:
    async with services.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Event)) or 0


async def statuses(services: Services, event_id: int) -> list[RegistrationStatus]:
    async with services.transaction() as session:
        found = await session.scalars(
            select(Registration.status)
            .where(Registration.event_id == event_id)
            .order_by(Registration.id)
        )
        return list(found.all())


async def book(services: Services, event_id: int, n: int) -> booking.BookingResult:
    async with services.transaction() as session:
        return await booking.book(session, event_id=event_id, attendee=person(n), secret_key=SECRET)


# === capacity ===============================================================================


async def test_capacity_below_the_confirmed_seats_is_refused_saying_how_many(
    services: Services,
) -> None:
    event = await make_event(services, capacity=40)
    for n in range(31):
        await book(services, event.id, n)

    with pytest.raises(InvalidEvent) as refused:
        await change(services, event.id, capacity=1)
    assert set(refused.value.fields) == {"capacity"}
    assert "31" in refused.value.fields["capacity"]
    kept = await reload(services, event.id)
    assert (kept.capacity, kept.sequence) == (40, event.sequence)
    assert (await statuses(services, event.id)).count(RegistrationStatus.CONFIRMED) == 31

    # Down to exactly the confirmed seats is fine: nobody loses a place.
    assert (await change(services, event.id, capacity=31)).capacity == 31


async def test_raising_the_capacity_still_promotes_from_the_waitlist(services: Services) -> None:
    event = await make_event(services, capacity=1)
    for n in range(3):
        await book(services, event.id, n)
    assert await statuses(services, event.id) == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
    ]

    await change(services, event.id, capacity=2)
    assert await statuses(services, event.id) == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
    ]
    async with services.transaction() as session:
        promoted = await session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "promoted")
        )
        assert list(promoted.all()) == [person(1).email]


@pytest.mark.parametrize("capacity", [0, -1, 100_001, 2**31, 2**63])
async def test_capacity_outside_one_to_a_hundred_thousand_is_refused(
    services: Services, capacity: int
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        await create(services, capacity=capacity)
    assert set(refused.value.fields) == {"capacity"}
    event = await make_event(services)
    with pytest.raises(InvalidEvent):
        await change(services, event.id, capacity=capacity)
    assert (await reload(services, event.id)).capacity == event.capacity
    assert await count_events(services) == 1


async def test_capacity_at_the_bounds_is_accepted(services: Services) -> None:
    assert (await create(services, capacity=1)).capacity == 1
    assert (await create(services, capacity=100_000)).capacity == 100_000


# === times ==================================================================================

SOON_START = SOON


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [
        (
            datetime(1999, 12, 31, 12, tzinfo=UTC),
            datetime(1999, 12, 31, 13, tzinfo=UTC),
            "starts_at",
        ),
        (datetime(2101, 1, 1, 12, tzinfo=UTC), datetime(2101, 1, 1, 13, tzinfo=UTC), "starts_at"),
        (
            datetime(2100, 12, 31, 23, 30, tzinfo=UTC),
            datetime(2101, 1, 1, 0, 30, tzinfo=UTC),
            "ends_at",
        ),
        (SOON_START, SOON_START, "ends_at"),
        (SOON_START, SOON_START - HOUR, "ends_at"),
        (SOON_START, SOON_START + timedelta(seconds=30), "ends_at"),
        (SOON_START, SOON_START + timedelta(hours=24, minutes=1), "ends_at"),
        (SOON_START, SOON_START + timedelta(days=7), "ends_at"),
        (SOON_START.replace(tzinfo=None), SOON_START + HOUR, "starts_at"),
    ],
)
async def test_times_outside_the_bounds_are_refused(
    services: Services, starts: datetime, ends: datetime, field: str
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        await create(services, starts_at=starts, ends_at=ends)
    assert field in refused.value.fields
    assert await count_events(services) == 0


async def test_a_minute_and_a_day_are_both_fine(services: Services) -> None:
    await create(services, ends_at=SOON + timedelta(minutes=1))
    await create(services, ends_at=SOON + timedelta(hours=24))
    assert await count_events(services) == 2


async def test_an_event_in_the_past_is_added_only_when_meant(services: Services) -> None:
    yesterday = utcnow().replace(microsecond=0) - timedelta(days=1)
    with pytest.raises(EventInPast) as refused:
        await create(services, starts_at=yesterday, ends_at=yesterday + HOUR)
    assert set(refused.value.fields) == {"starts_at"}
    assert await count_events(services) == 0

    await create(services, starts_at=yesterday, ends_at=yesterday + HOUR, allow_past=True)
    assert await count_events(services) == 1


async def test_an_event_is_moved_into_the_past_only_when_meant(services: Services) -> None:
    event = await make_event(services)
    await book(services, event.id, 1)
    yesterday = utcnow().replace(microsecond=0) - timedelta(days=1)

    with pytest.raises(EventInPast):
        await change(services, event.id, starts_at=yesterday)
    kept = await reload(services, event.id)
    assert (kept.starts_at, kept.sequence) == (event.starts_at, event.sequence)

    moved = await change(services, event.id, starts_at=yesterday, allow_past=True)
    assert moved.starts_at == yesterday
    assert moved.ends_at == yesterday + HOUR  # moving keeps the length


async def test_a_running_event_can_still_be_renamed_and_extended(services: Services) -> None:
    started = utcnow().replace(microsecond=0) - timedelta(minutes=10)
    event = await make_event(services, starts_at=started, ends_at=started + HOUR)
    with pytest.raises(EventInPast) as refused:  # ending it before now is a move into the past
        await change(services, event.id, ends_at=started + timedelta(minutes=5))
    assert set(refused.value.fields) == {"ends_at"}
    assert (await change(services, event.id, title="Nytt namn")).title == "Nytt namn"
    extended = await change(services, event.id, ends_at=started + 2 * HOUR)
    assert extended.ends_at == started + 2 * HOUR


async def test_an_event_stored_under_older_rules_still_takes_other_changes(
    services: Services,
) -> None:
    # Events once could last a week; such an event must still take a title or capacity.
    event = await make_event(services)
    async with services.transaction() as session:  # as a row from before the rule was
        stored = await session.get(Event, event.id)
        assert stored is not None
        stored.ends_at = SOON + timedelta(days=3)
    renamed = await change(services, event.id, title="Nytt namn", capacity=50)
    assert (renamed.title, renamed.capacity) == ("Nytt namn", 50)
    with pytest.raises(InvalidEvent):  # but a change of its times meets today's rules
        await change(services, event.id, ends_at=SOON + timedelta(days=2))


# === ids ====================================================================================


@pytest.mark.parametrize("event_id", [0, -1, 2**31, 2**63, 2**70])
async def test_ids_no_row_can_have_are_not_found(services: Services, event_id: int) -> None:
    with pytest.raises(EventNotFound):
        async with services.transaction() as session:
            await publish_event(session, event_id)
    with pytest.raises(EventNotFound):
        async with services.transaction() as session:
            await update_event(session, event_id, EventChanges(title="Nytt"))
    with pytest.raises(EventNotFound):
        async with services.transaction() as session:
            await cancel_event(session, event_id)


# === text ===================================================================================


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": " \t\n "}, "title"),
        ({"title": "Kafé\x1b[31m"}, "title"),
        ({"title": "Kafé\x00"}, "title"),
        ({"title": "\u202eéfaK"}, "title"),
        ({"title": "=?utf-8?q?Kaf=C3=A9?="}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"venue": "Sal\x07 1"}, "venue"),
        ({"venue": "x" * 301}, "venue"),
        ({"summary": "Kort\x7f"}, "summary"),
        ({"description": "Rad ett\n\u2066Rad två"}, "description"),
        ({"description": "\udcff"}, "description"),
        ({"join_url": "javascript:alert(1)"}, "join_url"),
        ({"join_url": "ftp://files.example.se/"}, "join_url"),
        ({"join_url": "https:///no-host"}, "join_url"),
        ({"join_url": "https://meet.example.se/rum\r\nX: y"}, "join_url"),
        ({"join_url": "https://meet.example.se/ett rum"}, "join_url"),
        ({"join_url": "https://meet.example.se:99999999/"}, "join_url"),
        ({"join_url": "http://[::1"}, "join_url"),
        ({"join_url": "https://meet.example.se/" + "x" * 500}, "join_url"),
    ],
)
async def test_event_text_that_is_not_text_is_refused(
    services: Services, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        await create(services, **fields)
    assert field in refused.value.fields
    event = await make_event(services)
    with pytest.raises(InvalidEvent) as refused:
        await change(services, event.id, **fields)
    assert field in refused.value.fields
    kept = await reload(services, event.id)
    assert (kept.title, kept.venue, kept.join_url) == (event.title, event.venue, event.join_url)
    assert await count_events(services) == 1


async def test_event_text_is_stored_clean(services: Services) -> None:
    event = await create(
        services,
        title="  Lunchkafé \t om\nförenkling ",
        venue=" Sal  Ärla ",
        summary="  Kort.\r\nTvå rader. ",
        description="Stycke ett.\r\n\r\n\tStycke två.",
        join_url=" https://meet.example.se/rum ",
    )
    stored = await reload(services, event.id)
    assert stored.title == "Lunchkafé om förenkling"
    assert stored.venue == "Sal Ärla"
    assert stored.summary == "Kort.\nTvå rader."
    assert stored.description == "Stycke ett.\n\n\tStycke två."
    assert stored.join_url == "https://meet.example.se/rum"

    cleared = await change(services, event.id, venue="")
    assert (cleared.venue, cleared.join_url) == (None, "https://meet.example.se/rum")


async def test_series_text_follows_the_same_rule(services: Services) -> None:
    for fields in (
        {"slug": "kafé", "title": "Serien"},
        {"slug": "x" * 81, "title": "Serien"},
        {"slug": "serien", "title": "Serien\u202e"},
        {"slug": "serien", "title": "Serien", "host": "Nätverket\x1b"},
    ):
        with pytest.raises(InvalidEvent):
            async with services.transaction() as session:
                await create_series(session, **fields)
    with pytest.raises(SeriesNotFound):
        await create(services, series_slug="kafé\udcff")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["title", "venue", "summary", "description", "join_url"]),
    value=st.text(st.characters(exclude_categories=()), max_size=30),
)
async def test_any_text_is_refused_or_stored_clean(
    services: Services, field: str, value: str
) -> None:
    before = await count_events(services)
    refused: InvalidEvent | None = None
    try:
        # A draft: an empty join link is its own business until it is published.
        event = await create(services, publish=False, **{field: value})
    except InvalidEvent as exc:
        refused = exc
    if refused is not None:
        assert set(refused.fields) == {field}
        assert await count_events(services) == before
        return
    stored = getattr(await reload(services, event.id), field) or ""
    multiline = field in ("summary", "description")
    assert refused_character(stored, multiline=multiline) is None
    if not multiline:
        assert "\n" not in stored
        assert stored == stored.strip()


# === registration window ====================================================================


async def test_the_registration_window_is_set_alone_and_checked_once(services: Services) -> None:
    from events.rules import MSG_CLOSES_AFTER_START
    from events.schedule import set_registration_window

    event = await make_event(services)
    async with services.transaction() as session:
        stored = await session.get_one(Event, event.id)
        stored.host = "Nätverket"
        stored.reminder_offsets = [90]
    opens, closes = SOON - timedelta(days=7), SOON - 2 * HOUR
    async with services.transaction() as session:
        await set_registration_window(session, event.id, opens, closes)
    kept = await reload(services, event.id)
    assert (kept.registration_opens_at, kept.registration_closes_at) == (opens, closes)
    assert (kept.host, kept.reminder_offsets, kept.sequence) == ("Nätverket", [90], 0)
    with pytest.raises(InvalidEvent) as refused:
        async with services.transaction() as session:
            await set_registration_window(session, event.id, None, SOON + HOUR)
    assert refused.value.fields == {"registration_closes_at": MSG_CLOSES_AFTER_START}


async def test_moving_a_start_before_its_fixed_closing_is_the_new_starts_fault(
    services: Services,
) -> None:
    """The change form shows no window: a move past it is said on the start."""
    event = await make_event(
        services, registration_closes_at=SOON - timedelta(days=1), allow_past=False
    )
    with pytest.raises(InvalidEvent) as refused:
        await change(
            services,
            event.id,
            starts_at=SOON - timedelta(days=2),
            ends_at=SOON - timedelta(days=2) + HOUR,
        )
    assert set(refused.value.fields) == {"starts_at"}
