"""events.opening: whether an event is open for booking at a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.models import Event, EventStatus
from events.opening import MSG_STARTED, BookingClosed, check_bookable

STARTS = datetime(2031, 3, 5, 11, 0, tzinfo=UTC)


def test_a_stored_closing_after_the_start_still_closes_at_the_start() -> None:
    """A row written before events.rules refused such a window (a series' fixed closing
    time after one of its dates' start) is not bookable once the date has begun."""
    event = Event(
        status=EventStatus.PUBLISHED,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
        registration_closes_at=STARTS + timedelta(days=2),
    )
    check_bookable(event, STARTS - timedelta(minutes=1))
    with pytest.raises(BookingClosed) as closed:
        check_bookable(event, STARTS + timedelta(minutes=5))
    assert closed.value.msgid == MSG_STARTED
