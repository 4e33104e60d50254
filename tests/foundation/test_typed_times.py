"""A wall time typed into a form is placed by the one rule (foundation.timeparse.place): a
reading chosen only counts where the clocks repeat the time, a skipped time is never made to
exist, and the form's choice offers exactly the readings there are. Wall times every minute
around both 2027 changes in Europe/Stockholm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.i18n import translations
from foundation.timeparse import UnclearLocalTime, place
from foundation.typed_times import (
    chosen_offset,
    place_typed,
    repeated_choice,
    unclear_message,
)

TZ = "Europe/Stockholm"
OFFSETS = st.sampled_from(["", "+01:00", "+02:00", "+03:00", "nonsense"])


def walls_near(day: datetime) -> st.SearchStrategy[datetime]:
    return st.integers(0, 6 * 60).map(lambda minutes: day + timedelta(minutes=minutes))


WALLS = walls_near(datetime(2027, 3, 28)) | walls_near(datetime(2027, 10, 31))


@given(WALLS, OFFSETS)
def test_a_chosen_offset_counts_only_where_the_time_repeats(wall: datetime, offset: str) -> None:
    choice = repeated_choice(wall.isoformat(timespec="minutes"), TZ)
    readings = _readings(wall)
    if len(readings) == 1 and _exists(wall):
        assert choice == []
        assert place_typed(wall, TZ, offset) == readings[0]  # a leftover choice moves nothing
        return
    offered = {reading.offset: reading.instant for reading in choice}
    assert len(choice) == (2 if _exists(wall) else 0)
    if offset in offered:
        assert place_typed(wall, TZ, offset) == offered[offset] == place(wall, TZ, offset)
        assert offered[offset] in readings
    else:
        with pytest.raises(UnclearLocalTime):
            place_typed(wall, TZ, offset)


def _readings(wall: datetime) -> list[datetime]:
    zone = ZoneInfo(TZ)
    return sorted({wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)})


def _exists(wall: datetime) -> bool:
    return _readings(wall)[0].astimezone(ZoneInfo(TZ)).replace(tzinfo=None) == wall


@given(WALLS)
def test_a_stored_instant_is_shown_with_its_reading_where_it_repeats(wall: datetime) -> None:
    for reading in repeated_choice(wall.isoformat(timespec="minutes"), TZ):
        assert chosen_offset(reading.instant, TZ) == reading.offset
        assert reading.instant.tzinfo is UTC
    if len(_readings(wall)) == 1 and _exists(wall):
        assert chosen_offset(_readings(wall)[0], TZ) == ""


def test_the_messages_in_both_languages() -> None:
    english = translations("en").gettext
    with pytest.raises(UnclearLocalTime) as repeated:
        place(datetime(2027, 10, 31, 2, 30), TZ)
    message = unclear_message(repeated.value)
    assert message == (
        "02.30 finns två gånger den natten, eftersom klockan ställs tillbaka. "
        "Välj 02.30 (sommartid) eller 02.30 (normaltid)."
    )
    assert [r.offset for r in message.readings] == ["+02:00", "+01:00"]
    assert message.translated(english, "en") == (
        "02:30 happens twice that night, because the clocks go back. "
        "Choose 02:30 (summer time) or 02:30 (standard time)."
    )
    with pytest.raises(UnclearLocalTime) as skipped:
        place(datetime(2027, 3, 28, 2, 30), TZ)
    message = unclear_message(skipped.value)
    assert message == (
        "02.30 finns inte den natten, eftersom klockan ställs fram. "
        "Skriv en tid före eller efter, till exempel 01.30 eller 03.30."
    )
    assert message.readings == []


def test_the_forms_ways_of_writing_a_time() -> None:
    for typed in ("2027-10-31T02:30", "2027-10-31 2.30", "2027-10-31 02:30", "2027-10-31T02:30:00"):
        assert [r.offset for r in repeated_choice(typed, TZ)] == ["+02:00", "+01:00"], typed
    for typed in ("", "2027-10-31", "02:30", "2027-10-31T02:30+01:00", "2027-10-31T25:30"):
        assert repeated_choice(typed, TZ) == [], typed
