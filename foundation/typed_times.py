"""A local time an organiser types into a form, placed by the one rule for typed times
(foundation.timeparse.place), never shifted.

A wall time the clocks skip (02.30 on 2027-03-28 in Stockholm) is refused with a message
naming the times either side; one they repeat (02.30 on 2027-10-31) is refused until the
form says which reading is meant, in its field `<name>_offset` ("+02:00" or "+01:00", the
UTC offset of that reading: the form offers both as a choice, see `repeated_choice`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from foundation.errors import N_, FilledMessage
from foundation.timeparse import UnclearLocalTime, offset_text, place

# A day and a wall time as the workspace's forms send them: "2027-10-31T02:30" from a
# datetime-local field, "2027-10-31 2.30" from a date and a time field (Swedish "2.30").
_TYPED = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{1,2})[:.]([0-9]{2}(?::[0-9]{2})?)", re.ASCII
)

MSG_REPEATED = N_(
    "%(clock)s finns två gånger den natten, eftersom klockan ställs tillbaka. "
    "Välj %(first)s eller %(second)s."
)
MSG_SKIPPED = N_(
    "%(clock)s finns inte den natten, eftersom klockan ställs fram. "
    "Skriv en tid före eller efter, till exempel %(before)s eller %(after)s."
)


def offset_field(name: str) -> str:
    """The form field that confirms a reading of the wall time typed into `name`."""
    return f"{name}_offset"


def place_typed(wall: datetime, tz: str, offset: str = "") -> datetime:
    """The UTC instant of the naive wall time `wall` in `tz`. `offset` (the form's
    `<name>_offset`, "" when none was chosen) picks a reading of a repeated wall time and is
    ignored for any other: a choice left over from an earlier time typed does not move a
    time that names one instant, nor make one the clocks skip exist.

    Raises UnclearLocalTime (its message for the form: `unclear_message`) for a skipped wall
    time, or a repeated one without one of its offsets; ValueError outside datetime's range.
    """
    try:
        return place(wall, tz)
    except UnclearLocalTime as unclear:
        if unclear.gap or offset not in unclear.offsets:
            raise
        return place(wall, tz, offset)


@dataclass(frozen=True)
class Reading:
    """One reading of a repeated wall time: its UTC offset as the form sends it ("+02:00")
    and the instant, aware, in UTC (PEP 495: a datetime in a zone's fold never equals one in
    another zone, so it is kept in UTC; `format_clock` says which reading it is)."""

    offset: str
    instant: datetime


class UnclearTimeMessage(FilledMessage):
    """A field's message for a wall time the clocks skip or repeat, with the `readings` a
    form offers for a repeated one (none for a skipped one), for a form whose field holds
    no typed time to read them from (a day, at the series' time)."""

    readings: list[Reading]


def unclear_message(unclear: UnclearLocalTime) -> UnclearTimeMessage:
    """The field's message for a wall time the clocks skip or repeat, its clock texts in
    the reader's language: the two readings of a repeated time ("02.30 (sommartid)",
    "02.30 (normaltid)"), or for a skipped one the times it would be by the clock before
    and after the change ("01.30", "03.30")."""
    zone = ZoneInfo(unclear.tz_name)
    first, second = (reading.astimezone(zone) for reading in unclear.readings)
    if unclear.gap:
        message = UnclearTimeMessage(MSG_SKIPPED, clock=unclear.typed, before=first, after=second)
        message.readings = []
        return message
    message = UnclearTimeMessage(MSG_REPEATED, clock=unclear.typed, first=first, second=second)
    message.readings = _readings(unclear)
    return message


def _readings(unclear: UnclearLocalTime) -> list[Reading]:
    return [
        Reading(offset, reading)
        for offset, reading in zip(unclear.offsets, unclear.readings, strict=True)
    ]


def repeated_choice(typed: str, tz: str) -> list[Reading]:
    """The readings a form offers for `typed` ("2027-10-31T02:30", as a datetime-local field
    sends it, or "2027-10-31 2.30", a date and a time field's values), earlier first: two
    where the clocks repeat that wall time in `tz`, none for any other text (a time naming
    one instant, a skipped time, text that is not a time)."""
    found = _TYPED.fullmatch(typed.strip())
    if found is None:
        return []
    try:
        place(datetime.fromisoformat(f"{found[1]}T{int(found[2]):02d}:{found[3]}"), tz)
    except UnclearLocalTime as unclear:
        return [] if unclear.gap else _readings(unclear)
    except ValueError:
        return []
    return []


def chosen_offset(moment: datetime, tz: str) -> str:
    """For a stored instant shown in a form: its offset ("+02:00") where its wall time in
    `tz` repeats, so the form shows that reading chosen; "" elsewhere."""
    local = moment.astimezone(ZoneInfo(tz))
    if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
        return ""
    return offset_text(local)
