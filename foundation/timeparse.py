"""Reading times typed by organisers (command line, workspace forms): ISO 8601, local time
when no offset is given.

A local time on a night the clocks change may name no instant (the spring gap: 02.30 on the
last Sunday of March in Stockholm) or two (the autumn fold: 02.30 on the last Sunday of
October, once in summer time, once in standard time). Such a time is never placed silently:
`to_utc` raises UnclearLocalTime, naming the instants it could mean, and the organiser
confirms one by giving its offset.

Every failure is a ValueError whose message says what to write instead, never an
OverflowError: text far outside datetime's range (year 1 or 9999 moved to UTC, a duration of
twenty digits) is refused here, so no caller meets an arithmetic error later.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# ASCII digits only: str.isdigit() admits '²' and other scripts' digits. Counts are read
# whole and compared with `longest`, so twenty digits give a message, not an OverflowError.
_DURATION = re.compile(r"(?:([0-9]+)h)?\s*(?:([0-9]+)m(?:in)?)?", re.ASCII)
_MINUTES = re.compile(r"[0-9]+", re.ASCII)


def read_moment(text: str) -> datetime:
    """ISO 8601 as typed: aware when it has an offset or Z, naive (local time) when not.

    Raises ValueError. The result is not yet placed in a time zone; see `to_utc`.
    """
    raw = text.strip()
    try:
        return datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time; "
            "write e.g. 2026-12-03T12:00 or 2026-12-03T12:00+01:00"
        ) from None


class UnclearLocalTime(ValueError):
    """A wall time that names no instant (`gap`) or two (the autumn fold) in a zone.

    `readings` are the instants (aware, UTC, earlier first) the wall time would be under
    each of the zone's offsets around the change: for the fold, the two real moments; for
    the gap, the moment the typed time would be by the clock before the change and by the
    clock after it. The organiser picks one by its offset (`offsets`, e.g. "+02:00").
    """

    def __init__(self, typed: datetime, tz_name: str, readings: list[datetime], *, gap: bool):
        self.typed = typed
        self.tz_name = tz_name
        self.readings = readings
        self.gap = gap
        self.offsets = [offset_text(_reading_local(typed, r)) for r in readings]
        shown = typed.isoformat(timespec="minutes")
        if gap:
            what = f"{shown} does not exist in {tz_name} (the clocks go forward)"
        else:
            what = f"{shown} happens twice in {tz_name} (the clocks go back)"
        choices = " or ".join(f"{shown}{offset}" for offset in self.offsets)
        super().__init__(f"{what}; write {choices}")


def offset_text(local: datetime) -> str:
    """An aware datetime's UTC offset as ISO 8601 writes it: '+02:00'."""
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def place(wall: datetime, tz_name: str, offset: str | None = None) -> datetime:
    """The UTC instant of the naive wall time `wall` in `tz_name`. `offset` ('+02:00', as
    UnclearLocalTime.offsets gives) confirms which reading is meant where the wall time
    names none or two; elsewhere it must be the zone's own offset then.

    Raises UnclearLocalTime for a wall time in a gap or fold without `offset`, ValueError for
    an offset the zone does not have at that time or a time outside datetime's range.
    """
    zone = ZoneInfo(tz_name)
    try:
        first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
        readings = sorted({first.astimezone(UTC), second.astimezone(UTC)})
    except OverflowError:
        typed = wall.isoformat(timespec="minutes")
        raise ValueError(f"{typed} is outside the range of dates") from None
    # A gap: the wall time does not come back from UTC as typed.
    gap = readings[0].astimezone(zone).replace(tzinfo=None) != wall
    unclear = gap or len(readings) > 1
    if offset is None:
        if unclear:
            raise UnclearLocalTime(wall, tz_name, readings, gap=gap)
        return readings[0]
    for reading in readings if unclear else readings[:1]:
        if offset_text(_reading_local(wall, reading)) == offset:
            return reading
    raise ValueError(f"{wall.isoformat(timespec='minutes')}{offset} is not a time in {tz_name}")


def _reading_local(wall: datetime, reading: datetime) -> datetime:
    # The wall time under the offset that makes it `reading`: wall - offset == reading.
    return wall.replace(tzinfo=timezone(wall - reading.replace(tzinfo=None)))


def to_utc(moment: datetime, tz_name: str) -> datetime:
    """A naive `moment` is wall time in `tz_name`; the result is aware, in UTC.

    Raises UnclearLocalTime for a naive wall time the clocks skip or repeat (see `place`),
    ValueError when the UTC time falls outside what datetime can hold (year 1 or 9999).
    """
    if moment.tzinfo is None:
        return place(moment, tz_name)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        typed = moment.replace(tzinfo=None).isoformat(timespec="minutes")
        raise ValueError(f"{typed} is outside the range of dates") from None


def parse_duration(text: str, *, longest: timedelta = timedelta(hours=24)) -> timedelta:
    """'60' (minutes), '1h', '90m', '1h30m' → a timedelta of whole minutes.

    Raises ValueError for anything else, for zero, and for more than `longest`.
    """
    raw = text.strip().lower()
    if _MINUTES.fullmatch(raw):
        minutes = _number(raw)
    else:
        match = _DURATION.fullmatch(raw)
        if not raw or match is None or not (match.group(1) or match.group(2)):
            raise ValueError(f"{text!r} is not a duration; write minutes (60) or 1h30m")
        minutes = _number(match.group(1) or "0") * 60 + _number(match.group(2) or "0")
    if minutes <= 0:
        raise ValueError("the duration must be longer than zero")
    if minutes > _minutes(longest):
        raise ValueError(f"the duration can be at most {_minutes(longest)} minutes")
    return timedelta(minutes=minutes)


def _number(digits: str) -> int:
    # Past nine digits the value only needs to be "too long"; int() of thousands of digits
    # would raise its own ValueError about Python's conversion limit instead.
    return int(digits) if len(digits.lstrip("0")) <= 9 else 10**9


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds()) // 60
