"""events.rules.check_times: a registration window lies before its event's start, whoever
sets it (the event form, a series' window, the API, a copy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.rules import MSG_CLOSES_AFTER_START, MSG_OPENS_AFTER_START, check_times

STARTS = datetime(2031, 3, 5, 11, 0, tzinfo=UTC)
ENDS = STARTS + timedelta(hours=1)


def faults(opens: datetime | None, closes: datetime | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    check_times(errors, starts_at=STARTS, ends_at=ENDS, opens=opens, closes=closes)
    return errors


@pytest.mark.parametrize("after", [timedelta(minutes=1), timedelta(days=3)])
def test_closing_after_the_start_is_a_fault_on_the_closing(after: timedelta) -> None:
    assert faults(None, STARTS + after) == {"registration_closes_at": MSG_CLOSES_AFTER_START}
    assert faults(STARTS - timedelta(days=1), STARTS + after) == {
        "registration_closes_at": MSG_CLOSES_AFTER_START
    }


@pytest.mark.parametrize("at", [timedelta(0), timedelta(minutes=1), timedelta(days=3)])
def test_opening_at_or_after_the_start_is_a_fault_on_the_opening(at: timedelta) -> None:
    assert faults(STARTS + at, None) == {"registration_opens_at": MSG_OPENS_AFTER_START}


def test_a_window_up_to_the_start_is_fine() -> None:
    assert faults(None, STARTS) == {}
    assert faults(STARTS - timedelta(minutes=1), STARTS) == {}
    assert faults(STARTS - timedelta(days=7), STARTS - timedelta(hours=2)) == {}
