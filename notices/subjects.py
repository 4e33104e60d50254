"""The one rule for the subject of a mail about one event: "<what>: <title>, <day>".

A series books the same title on many dates, so without the day each date's confirmation
would read alike in the inbox ("Bekräftad plats: Lunchkafé om förenkling" four times). The
day is written as a Swede says it, "onsdag 16 december", with the year only when it is not
the year the mail is sent in. The subject templates (templates/mail/*.subject.txt) call the
`about` macro of templates/mail/_subject.txt, which puts these together; mail.headers then
encodes and folds the result.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date


def subject_day(moment: datetime, tz_name: str, language: str, *, now: datetime) -> str:
    """The local day of `moment` (aware) in `tz_name`, in `language`: "onsdag 16 december",
    "Wednesday 16 December"; "onsdag 13 januari 2027" when its year is not that of `now`."""
    zone = ZoneInfo(tz_name)
    local = moment.astimezone(zone)
    pattern = "EEEE d MMMM" if local.year == now.astimezone(zone).year else "EEEE d MMMM y"
    return format_date(local.date(), pattern, locale=language)
