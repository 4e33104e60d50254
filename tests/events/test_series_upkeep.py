"""One registration window for a series' dates: a rule written onto each date is read back
from them, a date set apart is told from the rest, a fixed closing never lies after a date's
start, one more date takes the window most dates share, and a window that would close
booking now on dates open now is said first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from events.errors import EventInPast, InvalidEvent, WindowClosesBooking
from events.models import Event, Series
from events.series_upkeep import (
    WindowRule,
    add_date,
    common_window,
    series_with_dates,
    set_window,
)
from foundation.services import Services
from foundation.timestamps import utcnow
from tests.factories import SOON, make_series

FIRST = datetime(2027, 1, 6, 11, 0, tzinfo=UTC)
TZ = "Europe/Stockholm"


def dates(weeks: list[int], rule: WindowRule) -> list[Event]:
    made = []
    for week in sorted(set(weeks)):
        starts = FIRST + timedelta(weeks=week)
        opens, closes = rule.window_for(starts)
        made.append(
            Event(
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                registration_opens_at=opens,
                registration_closes_at=closes,
            )
        )
    return made


rules = st.builds(
    WindowRule,
    opens_before=st.none() | st.integers(1, 365).map(lambda d: timedelta(days=d)),
    closes_before=st.none() | st.integers(1, 720).map(lambda h: timedelta(hours=h)),
)


@given(rule=rules, weeks=st.lists(st.integers(0, 60), min_size=2, max_size=12, unique=True))
def test_a_rule_written_onto_the_dates_is_read_back_from_them(
    rule: WindowRule, weeks: list[int]
) -> None:
    written = dates(weeks, rule)
    assert common_window(written) == rule
    assert all(rule.follows(e) for e in written)


@given(rule=rules, weeks=st.lists(st.integers(0, 60), min_size=3, max_size=12, unique=True))
def test_one_date_set_apart_is_the_only_one_not_following(
    rule: WindowRule, weeks: list[int]
) -> None:
    written = dates(weeks, rule)
    apart = written[1]
    apart.registration_closes_at = apart.starts_at - timedelta(minutes=7)
    common = common_window(written)
    assert [e for e in written if not common.follows(e)] == [apart]


def test_one_instant_for_all_dates_is_read_as_an_instant() -> None:
    opens = FIRST - timedelta(days=3)
    written = dates([0, 1, 2], WindowRule(opens_at=opens))
    assert common_window(written) == WindowRule(opens_at=opens)
    assert common_window([]) == WindowRule()


# A fixed closing time for all dates: a date starting before it closes at its start.
closing_rules = st.builds(
    WindowRule,
    opens_before=st.none() | st.integers(1, 365).map(lambda d: timedelta(days=d)),
    closes_at=st.integers(-3, 63).map(lambda d: FIRST + timedelta(days=d, hours=-5)),
)


@given(rule=closing_rules, weeks=st.lists(st.integers(0, 8), min_size=2, max_size=9, unique=True))
def test_a_fixed_closing_after_a_dates_start_closes_that_date_at_its_start(
    rule: WindowRule, weeks: list[int]
) -> None:
    written = dates(weeks, rule)
    for event in written:
        assert event.registration_closes_at is None or (
            event.registration_closes_at < event.starts_at
        )
    assert all(common_window(written).follows(e) for e in written)
    if any(e.registration_closes_at for e in written):
        assert common_window(written) == rule


async def upkept_series(services: Services) -> int:
    """Three coming dates, two opening two weeks and closing two hours before the start
    (the first is open now), the latest on its own (opening a day before, closing five
    hours before)."""
    events = await make_series(services, events=3)
    async with services.transaction() as session:
        for event, (opens, closes) in zip(
            events,
            [(timedelta(days=14), timedelta(hours=2))] * 2
            + [(timedelta(days=1), timedelta(hours=5))],
            strict=True,
        ):
            stored = await session.get_one(Event, event.id)
            stored.registration_opens_at = stored.starts_at - opens
            stored.registration_closes_at = stored.starts_at - closes
        found: int | None = await session.scalar(select(Series.id))
    assert found is not None
    return found


async def test_one_more_date_takes_the_window_most_dates_share(services: Services) -> None:
    sid = await upkept_series(services)
    day = (SOON + timedelta(days=28)).astimezone(ZoneInfo(TZ)).date()
    async with services.transaction() as session:
        new, _ = await add_date(session, sid, day, tz=TZ, site_domain="test.example", now=utcnow())
    assert new.registration_opens_at == new.starts_at - timedelta(days=14)
    assert new.registration_closes_at == new.starts_at - timedelta(hours=2)


async def test_one_more_date_is_refused_before_the_now_it_is_given(services: Services) -> None:
    sid = await upkept_series(services)
    day = (SOON + timedelta(days=28)).astimezone(ZoneInfo(TZ)).date()
    with pytest.raises(EventInPast):
        async with services.transaction() as session:
            await add_date(
                session,
                sid,
                day,
                tz=TZ,
                site_domain="test.example",
                now=SOON + timedelta(days=60),
            )


async def test_a_fixed_opening_after_a_dates_start_is_refused_saying_how_many(
    services: Services,
) -> None:
    sid = await upkept_series(services)
    rule = WindowRule(opens_at=SOON + timedelta(days=8))  # after the first two dates' start
    with pytest.raises(InvalidEvent) as refused:
        async with services.transaction() as session:
            await set_window(session, sid, rule, now=utcnow())
    assert set(refused.value.fields) == {"opens"}
    assert "2 av datumen" in refused.value.fields["opens"]


async def test_a_window_closing_booking_now_is_said_first_and_kept_only_when_confirmed(
    services: Services,
) -> None:
    sid = await upkept_series(services)
    # Closing 12 days before the start: the first date (10 days away) closes now.
    rule = WindowRule(closes_before=timedelta(days=12))
    async with services.transaction() as session:
        first = (await series_with_dates(session, sid)).events[0]
        first_id, starts = first.id, first.starts_at
    with pytest.raises(WindowClosesBooking) as said:
        async with services.transaction() as session:
            await set_window(session, sid, rule, now=utcnow())
    assert [e.id for e in said.value.dates] == [first_id]
    async with services.transaction() as session:  # nothing written
        stored = await session.get_one(Event, first_id)
        assert stored.registration_closes_at == starts - timedelta(hours=2)
        await set_window(session, sid, rule, now=utcnow(), closing_seen=[first_id])
    async with services.transaction() as session:
        stored = await session.get_one(Event, first_id)
        assert stored.registration_closes_at == starts - timedelta(days=12)
