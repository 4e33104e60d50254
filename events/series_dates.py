"""A series' dates planned in one step: every week or every other week, at one wall-clock
time in the site's zone, with Swedish public holidays flagged before anything is created.

Wall-clock times stay put across daylight saving time (12.00 in March and in April is 12.00
both times, an hour apart in UTC), as RFC 5545 §3.3.5's local time with a zone reference
does. A date whose start or end the clocks skip or repeat that night (02.30 on the last
Sunday of March or October in Stockholm) is flagged and not created, never moved: its time
is placed by the one rule for typed times (foundation.typed_times). Public holidays come
from the `holidays` package (holidays.Sweden: the days of lagen (1989:253) om allmänna
helgdagar, Sundays left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import InvalidEvent
from events.models import Event, Series
from events.rules import (
    MSG_STARTS_IN_PAST,
    check_capacity,
    check_times,
    clean_text_fields,
    raise_if_any,
)
from events.schedule import EventDraft, create_event, create_series
from foundation.errors import N_, FilledMessage
from foundation.timeparse import UnclearLocalTime
from foundation.timestamps import utcnow
from foundation.typed_times import place_typed, unclear_message

MAX_DATES = 52
RHYTHMS = (1, 2)  # weeks between dates: every week, every other week
MSG_COUNT = N_("Ange ett antal tillfällen mellan 1 och 52.")
MSG_RHYTHM = N_("Välj varje vecka eller varannan vecka.")
MSG_NO_DATES = N_("Välj minst ett datum.")
MSG_DATE_NOT_PLANNED = N_("Ett av de valda datumen hör inte till planen. Förhandsgranska igen.")


@dataclass(frozen=True)
class PlannedDate:
    """One date of the plan: the day, its start and end in UTC, and the name of the Swedish
    public holiday it falls on (None: an ordinary day). `clock_edge`: why the date cannot
    be created at the plan's time (a start or end the clocks skip or repeat that night);
    its start and end are None then, and `noon` (noon UTC of the day) is there to show it."""

    day: date
    starts_at: datetime | None
    ends_at: datetime | None
    holiday: str | None
    clock_edge: FilledMessage | None = None

    @property
    def noon(self) -> datetime:
        """An instant on the day, for writing the day when the date has no times."""
        return datetime.combine(self.day, time(12), UTC)


@dataclass
class SeriesPlan:
    """What a series and each of its dates are given. `every_weeks` is 1 or 2."""

    slug: str
    title: str
    first_day: date
    starts: time
    ends: time
    count: int
    every_weeks: int = 1
    capacity: int = 20
    summary: str = ""
    description: str = ""
    host: str = ""
    join_url: str | None = None
    venue: str | None = None
    reminder_offsets: list[int] | None = None
    publish: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def plan_dates(plan: SeriesPlan, *, tz: str, language: str = "sv") -> list[PlannedDate]:
    """The plan's dates, each a wall-clock time in `tz` turned into UTC, holidays named in
    `language` ("sv" or "en"). Raises InvalidEvent for a count outside 1..52, a rhythm
    other than 1 or 2 weeks, or times the event rules refuse (faults in `plan.errors` too)."""
    from holidays.countries.sweden import Sweden  # first use: only planning a series needs it

    errors = dict(plan.errors)
    if not 1 <= plan.count <= MAX_DATES:
        errors["count"] = MSG_COUNT
    if plan.every_weeks not in RHYTHMS:
        errors["every_weeks"] = MSG_RHYTHM
    if errors:
        raise InvalidEvent(errors)
    days = [plan.first_day + timedelta(weeks=plan.every_weeks * n) for n in range(plan.count)]
    # The eves that are days off in practice (julafton, midsommarafton, nyårsafton) too,
    # as events.working_days counts them: nobody comes to a café on julafton.
    named = Sweden(
        years={d.year for d in days},
        categories=("public", "de_facto"),
        language="en_US" if language == "en" else "sv",
    )
    planned = []
    for day in days:
        try:
            starts = place_typed(datetime.combine(day, plan.starts), tz)
            ends = place_typed(datetime.combine(day, plan.ends), tz)
        except UnclearLocalTime as unclear:
            planned.append(PlannedDate(day, None, None, named.get(day), unclear_message(unclear)))
            continue
        planned.append(PlannedDate(day, starts, ends, named.get(day)))
    placed = [p for p in planned if p.starts_at is not None and p.ends_at is not None]
    for edge in placed[:1] + placed[-1:]:
        assert edge.starts_at is not None
        assert edge.ends_at is not None
        check_times(errors, starts_at=edge.starts_at, ends_at=edge.ends_at, opens=None, closes=None)
    if "starts_at" in errors or "ends_at" in errors:
        # The form asks for a first day and two clock times, so say it there.
        for name, own in (("starts_at", "starts"), ("ends_at", "ends")):
            if name in errors:
                errors[own] = errors.pop(name)
    raise_if_any(errors)
    return planned


def check_plan(plan: SeriesPlan) -> None:
    """The series' and its events' own fields by the event rules; faults go to
    `plan.errors` (raised with the dates' by `plan_dates`)."""
    clean_text_fields(
        {
            "title": plan.title,
            "summary": plan.summary,
            "description": plan.description,
            "host": plan.host,
            "venue": plan.venue,
            "join_url": plan.join_url,
        },
        plan.errors,
    )
    check_capacity(plan.errors, plan.capacity)


async def create_planned_series(
    session: AsyncSession,
    plan: SeriesPlan,
    chosen: Sequence[date],
    *,
    tz: str,
    site_domain: str,
) -> tuple[Series, list[Event]]:
    """Create the series and an event on each `chosen` day of its plan (the organiser may
    have dropped some, a holiday say), drafts unless `plan.publish`. Raises InvalidEvent: a
    fault in the plan, no day chosen, a day not in the plan, a date already past."""
    check_plan(plan)
    planned = {p.day: p for p in plan_dates(plan, tz=tz)}
    if not chosen:
        raise InvalidEvent({"dates": MSG_NO_DATES})
    if any(day not in planned for day in chosen):
        raise InvalidEvent({"dates": MSG_DATE_NOT_PLANNED})
    placed: dict[date, tuple[datetime, datetime]] = {}
    for day in chosen:
        starts, ends, edge = planned[day].starts_at, planned[day].ends_at, planned[day].clock_edge
        if edge is not None or starts is None or ends is None:
            raise InvalidEvent({"dates": edge or MSG_DATE_NOT_PLANNED})
        placed[day] = starts, ends
    now = utcnow()
    if any(starts < now for starts, _ in placed.values()):
        raise_if_any({"first_day": MSG_STARTS_IN_PAST})
    series = await create_series(
        session,
        slug=plan.slug,
        title=plan.title,
        summary=plan.summary,
        description=plan.description,
        host=plan.host,
    )
    series.reminder_offsets = plan.reminder_offsets
    events = []
    for day in sorted(set(chosen)):
        events.append(
            await create_event(
                session,
                EventDraft(
                    title=plan.title,
                    summary=plan.summary,
                    description=plan.description,
                    starts_at=placed[day][0],
                    ends_at=placed[day][1],
                    capacity=plan.capacity,
                    series_slug=plan.slug,
                    join_url=plan.join_url,
                    venue=plan.venue,
                    publish=plan.publish,
                ),
                site_domain=site_domain,
            )
        )
    return series, events
