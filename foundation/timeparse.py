"""Reading times typed on the command line: ISO 8601, local time when no offset is given.

Every failure is a ValueError whose message says what to write instead, never an
OverflowError: text far outside datetime's range (year 1 or 9999 moved to UTC, a duration of
twenty digits) is refused here, so no caller meets an arithmetic error later.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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


def to_utc(moment: datetime, tz_name: str) -> datetime:
    """A naive `moment` is wall time in `tz_name`; the result is aware, in UTC.

    Raises ValueError when the UTC time falls outside what datetime can hold (year 1 or 9999).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
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
