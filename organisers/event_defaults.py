"""What an event takes from its series or the site when it sets nothing itself: its reminders
and its co-host, as they apply, and where each comes from.

An event's empty co-host ("") is its series' co-host, and its reminders left unset (None) are
its series', else the site's REMINDER_OFFSETS (registrations.reminders.offsets_for, the rule
the worker sends by). The event page shows the values in effect and their source; the edit
form keeps the event's own fields empty and says in each hint what empty means now, so
saving it unchanged keeps the event following its series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from events.models import Event
from registrations.reminders import offsets_for

Source = Literal["event", "series", "site", ""]


@dataclass(frozen=True)
class InEffect:
    """An event's reminders (minutes before the start, largest first) and co-host as they
    apply, each with its source, and what an empty field on its form would mean."""

    reminders: tuple[int, ...]
    reminders_from: Source  # "event", "series" or "site"
    host: str  # "" when there is none
    host_from: Source  # "event", "series", or "" for none
    reminders_when_empty: tuple[int, ...]  # the series', else the site's
    reminders_when_empty_from: Source  # "series" or "site"
    host_when_empty: str  # the series' co-host ("" for none)


def in_effect(event: Event, site_reminders: tuple[int, ...]) -> InEffect:
    """`event`'s reminders and co-host as they apply (its series loaded with it), given the
    site's default reminders."""
    series = event.series
    series_reminders = series.reminder_offsets if series is not None else None
    empty_from: Source = "series" if series_reminders is not None else "site"
    series_host = series.host if series is not None else ""
    host_from: Source = "event" if event.host else "series" if series_host else ""
    return InEffect(
        reminders=offsets_for(event, site_reminders),
        reminders_from="event" if event.reminder_offsets is not None else empty_from,
        host=event.host or series_host,
        host_from=host_from,
        reminders_when_empty=(
            tuple(series_reminders) if series_reminders is not None else site_reminders
        ),
        reminders_when_empty_from=empty_from,
        host_when_empty=series_host,
    )
