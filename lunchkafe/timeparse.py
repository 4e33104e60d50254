"""Reading times typed on the command line: ISO 8601, local time when no offset is given."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def parse_moment(text: str, tz_name: str) -> datetime:
    """'2026-12-03T12:00' means 12:00 in `tz_name`; an offset or Z is respected."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time; "
            "write e.g. 2026-12-03T12:00 or 2026-12-03T12:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
    return moment.astimezone(UTC)


_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?$")


def parse_duration(text: str) -> timedelta:
    """'60' (minutes), '1h', '90m', '1h30m'."""
    raw = text.strip().lower()
    if raw.isdigit():
        minutes = int(raw)
    else:
        match = _DURATION.match(raw)
        if not raw or match is None:
            raise ValueError(f"{text!r} is not a duration; write minutes (60) or 1h30m")
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if minutes <= 0:
        raise ValueError("the duration must be longer than zero")
    return timedelta(minutes=minutes)
