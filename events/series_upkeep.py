"""Keeping a series after it is made: its own texts and reminders, one registration window
for all its coming dates, and one more date like its latest, with the series' window.

None of these moves an entry in anyone's calendar: the series row is not in an invite, a
registration window is not either, and a new date is a draft. A published date's time,
place, title and capacity change only through the change flow (registrations.organising),
which tells attendees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.errors import DateShown, InvalidEvent, SeriesNotFound, WindowClosesBooking
from events.models import Event, EventStatus, Series
from events.opening import BookingClosed, check_bookable
from events.rules import (
    MSG_OPENS_AFTER_START,
    MSG_OUT_OF_RANGE,
    MSG_STARTS_IN_PAST,
    clean_text_fields,
    raise_if_any,
)
from events.schedule import duplicate_event, set_registration_window
from foundation.errors import N_, FilledMessage
from foundation.ids import is_id
from foundation.timeparse import UnclearLocalTime
from foundation.typed_times import place_typed, unclear_message

MSG_NO_COMING_DATES = N_("Serien har inga kommande datum att ändra.")
MSG_NOTHING_TO_COPY = N_("Serien har inget datum att utgå från. Skapa ett evenemang i stället.")
MSG_DAY_TAKEN = N_("Serien har redan ett datum den dagen.")
MSG_OPENS_AFTER_DATES = N_(
    "Anmälan skulle öppna först efter att %(num)d av datumen har börjat. Välj en tid före "
    "det första datumet, eller ett antal dagar före start."
)


async def series_with_dates(session: AsyncSession, series_id: int) -> Series:
    """A series with its dates (drafts and cancelled ones too), by start time. Raises
    SeriesNotFound."""
    series = (
        await session.scalar(
            select(Series)
            .options(selectinload(Series.events))
            .where(Series.id == series_id)
            .execution_options(populate_existing=True)
        )
        if is_id(series_id)
        else None
    )
    if series is None:
        raise SeriesNotFound()
    return series


def coming_dates(series: Series, now: datetime) -> list[Event]:
    """The dates not yet started and not cancelled: the ones a series-wide change reaches."""
    return [e for e in series.events if e.starts_at > now and e.status != EventStatus.CANCELLED]


async def update_series(
    session: AsyncSession,
    series_id: int,
    *,
    title: str,
    summary: str,
    description: str,
    host: str,
    reminder_offsets: list[int] | None,
) -> Series:
    """The series' own texts (what its public page shows), co-host (the dates' when theirs
    is empty) and reminder offsets (minutes before start; the dates' when theirs are None).
    The dates' own titles are untouched: they are in attendees' calendars. Raises
    SeriesNotFound or InvalidEvent."""
    series = await series_with_dates(session, series_id)
    errors: dict[str, str] = {}
    text = clean_text_fields(
        {"title": title, "summary": summary, "description": description, "host": host}, errors
    )
    raise_if_any(errors)
    series.title = text["title"]
    series.summary = text["summary"]
    series.description = text["description"]
    series.host = text["host"]
    series.reminder_offsets = reminder_offsets
    await session.flush()
    session.info["events_changed"] = True  # its title names the series feed
    return series


@dataclass(frozen=True)
class WindowRule:
    """When booking opens and closes for every date of a series. Opening: `opens_before`
    the start, or at `opens_at` for all; neither, at once. Closing: `closes_before` the
    start, or at `closes_at` for all, a date starting before then closing when it starts
    (booking never reaches past a start: events.rules.check_times); neither (or zero
    before), at the start."""

    opens_before: timedelta | None = None
    opens_at: datetime | None = None
    closes_before: timedelta | None = None
    closes_at: datetime | None = None

    def window_for(self, starts_at: datetime) -> tuple[datetime | None, datetime | None]:
        """(opens, closes) as stored on a date starting at `starts_at` (None: the default)."""
        opens = self.opens_at
        if opens is None and self.opens_before is not None:
            opens = starts_at - self.opens_before
        closes = self.closes_at
        if closes is not None and closes >= starts_at:
            closes = None  # the default: closes at the start
        if self.closes_at is None and self.closes_before:
            closes = starts_at - self.closes_before
        return opens, closes

    def follows(self, event: Event) -> bool:
        """Whether `event`'s window is the one this rule gives it."""
        return self.window_for(event.starts_at) == (
            event.registration_opens_at,
            event.registration_closes_at,
        )


# One side of a date's window, read each way it can be given: ("before", time before the
# start), ("at", the instant) or ("none", None), the default.
Reading = tuple[str, Any]


def _readings(moment: datetime | None, starts_at: datetime) -> list[Reading]:
    if moment is None:
        return [("none", None)]
    return [("before", starts_at - moment), ("at", moment)]


def _commonest(offered: list[list[Reading]], follows_at: Counter[Reading] | None = None) -> Reading:
    """The reading most dates share (each date offering its readings once, and an instant
    also followed by the dates in `follows_at`); ties go to the reading offered first, a
    time before the start over an instant."""
    counts: Counter[Reading] = Counter(r for readings in offered for r in readings)
    counts.update({r: n for r, n in (follows_at or Counter()).items() if r in counts})
    return counts.most_common(1)[0][0]


def _closing_at_start(events: Sequence[Event]) -> Counter[Reading]:
    """For each instant some date closes at: how many dates closing at their start (the
    default) begin by then, and so follow it too (WindowRule.window_for)."""
    instants = {e.registration_closes_at for e in events} - {None}
    starts = [e.starts_at for e in events if e.registration_closes_at is None]
    return Counter(
        {("at", at): sum(1 for s in starts if s <= at) for at in instants if at is not None}
    )


def common_window(events: Sequence[Event]) -> WindowRule:
    """The window most of `events` share, each side read as a time before the start or as
    one instant for all, whichever more dates follow. No events: the default window."""
    if not events:
        return WindowRule()
    how, opens = _commonest([_readings(e.registration_opens_at, e.starts_at) for e in events])
    kind, closes = _commonest(
        [_readings(e.registration_closes_at, e.starts_at) for e in events],
        _closing_at_start(events),
    )
    return WindowRule(
        opens_before=opens if how == "before" else None,
        opens_at=opens if how == "at" else None,
        closes_before=closes if kind == "before" else None,
        closes_at=closes if kind == "at" else None,
    )


def closing_now(dates: Sequence[Event], rule: WindowRule, now: datetime) -> list[Event]:
    """The dates among `dates` open for booking at `now` (events.opening) that `rule`'s
    window would close at `now`: not yet open again, or closed."""
    closing = []
    for event in dates:
        try:
            check_bookable(event, now)
        except BookingClosed:
            continue  # not open now: the rule closes nothing
        opens, closes = rule.window_for(event.starts_at)
        # The same rule read on the window as it would be (a transient row, never added).
        after = Event(
            status=event.status,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            registration_opens_at=opens,
            registration_closes_at=closes,
        )
        try:
            check_bookable(after, now)
        except BookingClosed:
            closing.append(event)
    return closing


async def set_window(
    session: AsyncSession,
    series_id: int,
    rule: WindowRule,
    *,
    now: datetime,
    closing_seen: Collection[int] = (),
) -> list[Event]:
    """Write `rule`'s window onto each coming date (`coming_dates`), each under its lock
    (events.schedule.set_registration_window), and return them. Raises SeriesNotFound;
    InvalidEvent under "opens" or "closes" when a date's window breaks the rules (an
    opening after some dates' start says how many); WindowClosesBooking when the rule would
    close booking now on dates open now (`closing_now`) other than `closing_seen`, the ids
    the organiser confirmed. Raising, it leaves the caller's transaction to roll back."""
    series = await series_with_dates(session, series_id)
    dates = coming_dates(series, now)
    if not dates:
        raise InvalidEvent({"dates": MSG_NO_COMING_DATES})
    closing = closing_now(dates, rule, now)  # read before any date is written
    errors: dict[str, str] = {}
    opening_late = 0
    for event in dates:
        try:
            await set_registration_window(session, event.id, *rule.window_for(event.starts_at))
        except InvalidEvent as exc:
            opens_fault = exc.fields.get("registration_opens_at")
            opening_late += opens_fault == MSG_OPENS_AFTER_START
            if opens_fault is not None:
                errors.setdefault("opens", opens_fault)
            if "registration_closes_at" in exc.fields:
                errors.setdefault("closes", exc.fields["registration_closes_at"])
    if opening_late:
        errors["opens"] = FilledMessage(MSG_OPENS_AFTER_DATES, num=opening_late)
    raise_if_any(errors)
    if closing and {e.id for e in closing} != set(closing_seen):
        raise WindowClosesBooking(
            [DateShown(e.id, e.starts_at, e.ends_at, e.title) for e in closing]
        )
    return dates


def next_day(series: Series, tz: str, today: date) -> date:
    """A day to suggest for one more date: the latest date's day plus the series' rhythm
    (the days between its last two dates; a week when it has one), after `today`."""
    days = sorted({e.starts_at.astimezone(ZoneInfo(tz)).date() for e in series.events})
    if not days:
        return today + timedelta(days=7)
    step = days[-1] - days[-2] if len(days) > 1 else timedelta(days=7)
    day = days[-1] + step
    while day <= today:
        day += step
    return day


async def add_date(
    session: AsyncSession,
    series_id: int,
    day: date,
    *,
    tz: str,
    site_domain: str,
    now: datetime,
    offset: str = "",
) -> tuple[Event, Event]:
    """A new draft on `day` like the series' latest date (cancelled ones only when it has
    no other): the same wall-clock start in `tz` (RFC 5545 §3.3.5, kept across daylight
    saving time), length, title, texts, capacity, place, co-host and reminders, and the
    registration window most of the series' coming dates share (`common_window`; with none
    coming, most of its dates). Where the clocks skip that start on `day`, or
    repeat it and `offset` ("+02:00") does not pick a reading, nothing is made: the start
    is placed by the one rule for typed times (foundation.typed_times), never shifted.
    Returns (new, the date copied). Raises SeriesNotFound, or InvalidEvent (EventInPast:
    before `now`; the clock edge's message; a window the rules refuse) under "day"."""
    series = await series_with_dates(session, series_id)
    kept = [e for e in series.events if e.status != EventStatus.CANCELLED] or series.events
    if not kept:
        raise InvalidEvent({"day": MSG_NOTHING_TO_COPY})
    zone = ZoneInfo(tz)
    if any(e.starts_at.astimezone(zone).date() == day for e in kept):
        raise InvalidEvent({"day": MSG_DAY_TAKEN})
    latest = kept[-1]
    clock = latest.starts_at.astimezone(zone).time().replace(fold=0)
    try:
        starts = place_typed(datetime.combine(day, clock), tz, offset)
    except UnclearLocalTime as unclear:
        raise InvalidEvent({"day": unclear_message(unclear)}) from None
    except ValueError:  # the first or last day datetime can hold, moved to UTC
        raise InvalidEvent({"day": MSG_OUT_OF_RANGE}) from None
    if starts < now:
        raise_if_any({"day": MSG_STARTS_IN_PAST})
    window = common_window(coming_dates(series, now) or kept)
    try:
        copy = await duplicate_event(
            session,
            latest.id,
            shift=starts - latest.starts_at,
            site_domain=site_domain,
            window=window.window_for,
        )
    except InvalidEvent as exc:
        raise InvalidEvent({"day": next(iter(exc.fields.values()))}) from None
    return copy, latest
