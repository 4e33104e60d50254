"""The demo's dates are days people can come (issue 10, item 11): no café or workshop on a
weekend, a Swedish public holiday or an eve that is a day off (julafton, midsommarafton,
nyårsafton), whatever day the demo is loaded on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from holidays.countries.sweden import Sweden
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from lunchkafe.demo import demo_days, load_demo


def day_off(day: date) -> str | None:
    """Written here from the package's own tables, not with events.working_days."""
    if day.weekday() >= 5:
        return "weekend"
    named: str | None = Sweden(years=day.year, categories=("public", "de_facto")).get(day)
    return named


@pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)
async def test_the_demo_loaded_today_has_no_event_on_a_day_off(services: Services) -> None:
    await load_demo(services, only_if_empty=False)
    tz = services.settings.tz
    async with services.transaction() as session:
        events = (await session.scalars(select(Event))).all()
    assert len(events) == 5
    for event in events:
        day = event.starts_at.astimezone(tz).date()
        assert day_off(day) is None, (event.title, day, day_off(day))


def test_every_start_day_of_three_years_gives_working_days() -> None:
    # Loaded on 2026-11-30 the demo once put the workshop on julafton and a café on
    # trettondedag jul; every other day of the calendar is as likely to hit one.
    today = date(2026, 1, 1)
    while today < date(2029, 1, 1):
        cafes, workshop = demo_days(today)
        assert len(cafes) == 4
        assert cafes == sorted(set(cafes))
        assert all(day > today for day in [*cafes, workshop])
        for day in [*cafes, workshop]:
            assert day_off(day) is None, (today, day, day_off(day))
        assert {day.weekday() for day in cafes} == {2}  # the cafés stay on Wednesdays
        today += timedelta(days=1)
