"""One registration window for a series' dates: a rule written onto each date is read back
from them, and a date set apart is told from the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from events.models import Event
from events.series_upkeep import WindowRule, common_window

FIRST = datetime(2027, 1, 6, 11, 0, tzinfo=UTC)


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
