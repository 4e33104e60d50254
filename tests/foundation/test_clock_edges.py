"""Clock edges (issue 10 item 6): every moment as local clock text is unambiguous, and a
typed local time the clocks skip or repeat is never placed silently.

Instants around both 2027 changes in Europe/Stockholm (spring: 2027-03-28 02.00 CET →
03.00 CEST; autumn: 2027-10-31 03.00 CEST → 02.00 CET), in Swedish and English.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.i18n import format_clock, format_datetime, format_span
from foundation.timeparse import UnclearLocalTime, place, to_utc

TZ = "Europe/Stockholm"
SPRING = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # the instant the clocks go forward
AUTUMN = datetime(2027, 10, 31, 1, 0, tzinfo=UTC)  # the instant the clocks go back
LANGUAGES = st.sampled_from(["sv", "en"])


def near(change: datetime) -> st.SearchStrategy[datetime]:
    """Whole minutes up to four hours either side of `change`."""
    return st.integers(-240, 240).map(lambda minutes: change + timedelta(minutes=minutes))


INSTANTS = near(SPRING) | near(AUTUMN)


def test_the_issues_examples() -> None:
    # An event at 02:30 on the night the clocks go back, an hour long: 02.30 CEST–02.30 CET.
    starts = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    span = format_span(starts, starts + timedelta(hours=1), TZ, "sv")
    assert "02.30–02.30" not in span
    assert span == "söndag 31 oktober 2027, kl. 02.30 (sommartid)–02.30 (normaltid)"
    # Two events an hour apart both showed "kl. 02.00".
    first = datetime(2027, 10, 31, 0, 0, tzinfo=UTC)
    second = first + timedelta(hours=1)
    for language in ("sv", "en"):
        assert format_datetime(first, TZ, language) != format_datetime(second, TZ, language)
    assert format_clock(first, TZ, "sv") == "02.00 (sommartid)"
    assert format_clock(second, TZ, "sv") == "02.00 (normaltid)"
    assert format_clock(first, TZ, "en") == "02:00 (summer time)"
    assert format_clock(second, TZ, "en") == "02:00 (standard time)"
    # 02:30 on 2027-03-28 does not exist: it is refused, not moved to 03:30.
    with pytest.raises(UnclearLocalTime, match="does not exist"):
        to_utc(datetime(2027, 3, 28, 2, 30), TZ)
    with pytest.raises(UnclearLocalTime, match="happens twice"):
        to_utc(datetime(2027, 10, 31, 2, 30), TZ)


def test_ordinary_times_say_nothing_more() -> None:
    noon = datetime(2027, 10, 31, 11, 0, tzinfo=UTC)
    assert format_clock(noon, TZ, "sv") == "12.00"
    assert format_clock(noon, TZ, "en") == "12:00"
    assert to_utc(datetime(2027, 10, 31, 12, 0), TZ) == noon


@given(INSTANTS, INSTANTS, LANGUAGES)
def test_two_instants_never_read_the_same(a: datetime, b: datetime, language: str) -> None:
    if a != b:
        assert format_datetime(a, TZ, language) != format_datetime(b, TZ, language)


@given(INSTANTS, LANGUAGES)
def test_the_clock_is_qualified_exactly_where_the_wall_time_repeats(
    moment: datetime, language: str
) -> None:
    hour = moment - AUTUMN
    repeated = timedelta(hours=-1) <= hour < timedelta(hours=1)
    assert ("(" in format_clock(moment, TZ, language)) == repeated


@given(INSTANTS)
def test_every_instant_can_be_typed_back(moment: datetime) -> None:
    """The wall time an instant shows, with its offset, names that instant; without the
    offset it names it too, or is refused (never another instant)."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(TZ))
    wall = local.replace(tzinfo=None, fold=0)
    offset = local.isoformat()[-6:]
    assert place(wall, TZ, offset) == moment
    if len(set(_readings(wall))) == 1:
        assert place(wall, TZ) == moment
        return
    with pytest.raises(UnclearLocalTime) as raised:
        place(wall, TZ)
    assert moment in raised.value.readings
    assert offset in raised.value.offsets
    assert not raised.value.gap


def _readings(wall: datetime) -> list[datetime]:
    from zoneinfo import ZoneInfo

    return [wall.replace(tzinfo=ZoneInfo(TZ), fold=fold).astimezone(UTC) for fold in (0, 1)]


@given(st.integers(0, 59))
def test_the_spring_gap_offers_both_readings(minute: int) -> None:
    wall = datetime(2027, 3, 28, 2, minute)
    with pytest.raises(UnclearLocalTime) as raised:
        place(wall, TZ)
    unclear = raised.value
    assert unclear.gap
    assert sorted(unclear.offsets) == ["+01:00", "+02:00"]
    # 02.mm by the winter clock is 03.mm summer time; by the summer clock, 01.mm winter time.
    assert place(wall, TZ, "+01:00") == datetime(2027, 3, 28, 1, minute, tzinfo=UTC)
    assert place(wall, TZ, "+02:00") == datetime(2027, 3, 28, 0, minute, tzinfo=UTC)
    assert str(wall.isoformat(timespec="minutes")) in str(unclear)


def test_an_offset_the_zone_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="not a time in"):
        place(datetime(2027, 6, 1, 12, 0), TZ, "+01:00")
