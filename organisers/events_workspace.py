"""Series and events in the organiser workspace: each step is one events (or guide) change
and its audit entry, in the caller's transaction.

Forms arrive as text (`Mapping[str, str]`); times are wall-clock times in the site's zone
(`tz`, Europe/Stockholm), as typed into date and time fields, and are stored in UTC. A wall
time the clocks skip or repeat is placed only as the form confirms it (foundation.typed_times:
`<field>_offset` picks a reading of a repeated time), never shifted.
A published event's time, place and capacity are changed through the change flow with its
preview (registrations.organising), never here: only drafts take them from this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events import schedule, series_dates
from events.errors import EventNotFound, InvalidEvent
from events.models import Event, EventKind, EventStatus, Series
from events.rules import MSG_SLUG, read_reminder_offsets, written_offsets
from foundation.errors import N_
from foundation.ids import is_id, parse_id
from foundation.slugs import is_slug, slug_from
from foundation.timeparse import UnclearLocalTime
from foundation.typed_times import chosen_offset, offset_field, place_typed, unclear_message
from guide import catalogue
from guide.catalogue import LinkedExample
from guide.event_topics import Suggestion, suggest_examples
from guide.models import GuideExample
from organisers import audit
from organisers.models import Organiser
from registrations.waitlist import count_confirmed, seat_counts

Form = Mapping[str, str]

MSG_MOMENT = N_("Skriv datum och tid, t.ex. 2026-12-03 12:00.")
MSG_DAY = N_("Skriv ett datum, t.ex. 2026-12-03.")
MSG_CLOCK = N_("Skriv en tid, t.ex. 12:00.")
MSG_NUMBER = N_("Skriv ett heltal.")
MSG_WEEKS = N_("Välj hur många veckor kopian ska flyttas (0–52).")
MSG_SERIES_TAKEN = N_("Det finns redan en serie med den adressen.")
MAX_SHIFT_WEEKS = 52
# The event form's times, each with its `<name>_offset` (foundation.typed_times).
TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


@dataclass(frozen=True)
class EventDesk:
    """An event as its organiser sees it: seats taken, the waitlist, the linked examples
    in order, and the guide's other examples to link."""

    event: Event
    confirmed: int
    waitlisted: int
    examples: list[LinkedExample]
    choices: list[GuideExample]
    # Examples that may fit, from the event's words and challenges (guide.event_topics).
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def booked(self) -> int:
        """Confirmed and waiting: while anyone is, the event cannot become a draft again
        (events.schedule.unpublish_event), as they would not be told; it is cancelled."""
        return self.confirmed + self.waitlisted


async def event_desk(session: AsyncSession, event_id: int) -> EventDesk:
    """Read one event for its organiser page, drafts included. Raises EventNotFound."""
    event = (
        await session.scalar(
            select(Event).options(selectinload(Event.series)).where(Event.id == event_id)
        )
        if is_id(event_id)
        else None
    )
    if event is None:
        raise EventNotFound()
    confirmed, waitlisted = (await seat_counts(session, [event.id]))[event.id]
    linked = await catalogue.examples_for_event(session, event.id)
    taken = {item.example.id for item in linked}
    choices = [e for e in await catalogue.examples(session) if e.id not in taken]
    suggestions = await suggest_examples(
        session,
        event_id=event.id,
        text=f"{event.title} {event.summary} {event.description}",
    )
    return EventDesk(event, confirmed, waitlisted, linked, choices, suggestions)


def local_field(moment: datetime | None, tz: str) -> str:
    """A stored instant as a datetime-local field's value in `tz` ('' for None)."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def local_offset(moment: datetime | None, tz: str) -> str:
    """A stored instant's reading as a `<field>_offset` value: its offset where its wall
    time in `tz` repeats, "" elsewhere (and for None)."""
    return "" if moment is None else chosen_offset(moment, tz)


def event_values(event: Event, tz: str) -> dict[str, str]:
    """An event's fields as its edit form shows them (with the reading of each time whose
    wall time repeats, so saving it unchanged keeps it)."""
    values = {
        "title": event.title,
        "kind": event.kind.value,
        "summary": event.summary,
        "description": event.description,
        "starts_at": local_field(event.starts_at, tz),
        "ends_at": local_field(event.ends_at, tz),
        "capacity": str(event.capacity),
        "join_url": event.join_url or "",
        "venue": event.venue or "",
        "host": event.host,
        "reminder_offsets": written_offsets(event.reminder_offsets),
        "registration_opens_at": local_field(event.registration_opens_at, tz),
        "registration_closes_at": local_field(event.registration_closes_at, tz),
    }
    for name in TIME_FIELDS:
        values[offset_field(name)] = local_offset(getattr(event, name), tz)
    return values


def read_local_field(values: Form, name: str, tz: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local field's wall-clock time in `tz`, in UTC (None when empty), the
    reading of a repeated wall time as `values["<name>_offset"]` confirms; a fault goes to
    `errors[name]`: a time that is not one, or one the clocks skip or repeat unconfirmed."""
    raw = values.get(name, "").strip()
    if not raw:
        return None
    try:
        wall = datetime.fromisoformat(raw.replace(" ", "T")).replace(tzinfo=None)
        return place_typed(wall, tz, values.get(offset_field(name), "").strip())
    except UnclearLocalTime as unclear:
        errors[name] = unclear_message(unclear)
        return None
    except ValueError:
        errors[name] = MSG_MOMENT
        return None


def _number(values: Form, name: str, errors: dict[str, str], default: int = 0) -> int:
    raw = values.get(name, "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    errors[name] = MSG_NUMBER
    return default


@dataclass(frozen=True)
class _EventFields:
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int
    opens: datetime | None
    closes: datetime | None
    offsets: list[int] | None
    kind: EventKind


def _read_event(values: Form, tz: str, *, times: bool) -> _EventFields:
    """What a form says beyond plain text; InvalidEvent for what cannot be read."""
    errors: dict[str, str] = {}
    starts = ends = None
    capacity = 0
    if times:
        starts = read_local_field(values, "starts_at", tz, errors)
        ends = read_local_field(values, "ends_at", tz, errors)
        for name, moment in (("starts_at", starts), ("ends_at", ends)):
            if moment is None and name not in errors:
                errors[name] = MSG_MOMENT
        capacity = _number(values, "capacity", errors)
    opens = read_local_field(values, "registration_opens_at", tz, errors)
    closes = read_local_field(values, "registration_closes_at", tz, errors)
    offsets = read_reminder_offsets(values.get("reminder_offsets", ""), errors)
    kind = EventKind.WORKSHOP if values.get("kind") == EventKind.WORKSHOP.value else EventKind.CAFE
    if errors:
        raise InvalidEvent(errors)
    return _EventFields(starts, ends, capacity, opens, closes, offsets, kind)


async def create_event(
    session: AsyncSession,
    organiser: Organiser,
    values: Form,
    *,
    tz: str,
    site_domain: str,
    now: datetime,
) -> Event:
    """A new draft from the form. Raises InvalidEvent (EventInPast) naming the fields."""
    read = _read_event(values, tz, times=True)
    assert read.starts_at is not None
    assert read.ends_at is not None
    event = await schedule.create_event(
        session,
        schedule.EventDraft(
            title=values.get("title", ""),
            summary=values.get("summary", ""),
            description=values.get("description", ""),
            kind=read.kind,
            starts_at=read.starts_at,
            ends_at=read.ends_at,
            capacity=read.capacity,
            join_url=values.get("join_url", ""),
            venue=values.get("venue", ""),
            registration_opens_at=read.opens,
            registration_closes_at=read.closes,
        ),
        site_domain=site_domain,
    )
    await schedule.set_event_settings(
        session,
        event.id,
        host=values.get("host", ""),
        reminder_offsets=read.offsets,
        registration_opens_at=read.opens,
        registration_closes_at=read.closes,
    )
    await audit.record(session, organiser, "event.created", f"event:{event.id}", now=now)
    return event


async def save_event(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    values: Form,
    *,
    tz: str,
    now: datetime,
) -> Event:
    """Save the edit form. A draft takes every field; a published event only its texts,
    co-host, reminders and registration window (its time, place and capacity go through
    the change flow, which tells attendees). Raises EventNotFound or InvalidEvent."""
    event = (await event_desk(session, event_id)).event
    if event.status == EventStatus.CANCELLED:
        raise InvalidEvent({"status": N_("Evenemanget är inställt och kan inte ändras.")})
    draft = event.status == EventStatus.DRAFT
    read = _read_event(values, tz, times=draft)
    changes = schedule.EventChanges(
        summary=values.get("summary", ""), description=values.get("description", "")
    )
    if draft:
        changes.title = values.get("title", "")
        changes.starts_at, changes.ends_at = read.starts_at, read.ends_at
        changes.capacity = read.capacity
        changes.join_url = values.get("join_url", "")
        changes.venue = values.get("venue", "")
        event.kind = read.kind
    await schedule.apply_changes(session, event.id, changes, count_confirmed=count_confirmed)
    await schedule.set_event_settings(
        session,
        event.id,
        host=values.get("host", ""),
        reminder_offsets=read.offsets,
        registration_opens_at=read.opens,
        registration_closes_at=read.closes,
    )
    await audit.record(session, organiser, "event.updated", f"event:{event.id}", now=now)
    return event


async def _active(session: AsyncSession, event_id: int) -> int:
    confirmed, waitlisted = (await seat_counts(session, [event_id]))[event_id]
    return confirmed + waitlisted


async def publish(
    session: AsyncSession, organiser: Organiser, event_id: int, now: datetime
) -> Event:
    """Publish a draft. Raises EventNotFound or InvalidEvent (a cancelled event)."""
    event = await schedule.publish_event(session, event_id)
    await audit.record(session, organiser, "event.published", f"event:{event.id}", now=now)
    return event


async def unpublish(
    session: AsyncSession, organiser: Organiser, event_id: int, now: datetime
) -> Event:
    """Back to a draft while nobody has booked. Raises EventNotFound, NotPublished or
    HasRegistrations (cancel instead, so the booked are told)."""
    event = await schedule.unpublish_event(session, event_id, count_registrations=_active)
    await audit.record(session, organiser, "event.unpublished", f"event:{event.id}", now=now)
    return event


async def duplicate(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    weeks: str,
    *,
    tz: str,
    site_domain: str,
    now: datetime,
) -> Event:
    """A new draft like the event, `weeks` later (text from the form, 0–52) at the same
    wall-clock time in `tz`, with its guide examples in the same order. Raises
    EventNotFound or InvalidEvent."""
    raw = weeks.strip()
    if not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_SHIFT_WEEKS):
        raise InvalidEvent({"weeks": MSG_WEEKS})
    source = await schedule.event_by_id(session, event_id, say_id=True)
    try:
        starts = schedule.weeks_later(source.starts_at, int(raw), tz)
    except UnclearLocalTime as unclear:
        raise InvalidEvent({"weeks": unclear_message(unclear)}) from None
    copy = await schedule.duplicate_event(
        session, event_id, shift=starts - source.starts_at, site_domain=site_domain
    )
    linked = await catalogue.copy_links(session, from_event_id=event_id, to_event_id=copy.id)
    await audit.record(
        session,
        organiser,
        "event.duplicated",
        f"event:{copy.id}",
        now=now,
        source=event_id,
        weeks=int(raw),
        examples=linked,
    )
    return copy


async def delete_draft(
    session: AsyncSession, organiser: Organiser, event_id: int, now: datetime
) -> None:
    """Delete a draft for good. Raises EventNotFound or NotADraft."""
    await schedule.delete_draft(session, event_id)
    await audit.record(session, organiser, "event.deleted", f"event:{event_id}", now=now)


async def link_example(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    example_slug: str,
    note: str,
    now: datetime,
) -> None:
    """Link a guide example to the event, last in its list, with a note on why.
    Raises EventNotFound, ExampleNotFound or InvalidExample."""
    event = (await event_desk(session, event_id)).event
    link = await catalogue.link_example(
        session, event_id=event.id, example_slug=example_slug, note=note
    )
    await audit.record(
        session,
        organiser,
        "event.example_linked",
        f"event:{event.id}",
        now=now,
        example=link.example_id,
    )


async def move_example(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    example_id: str,
    direction: str,
    now: datetime,
) -> None:
    """Move a linked example one place up or down (`direction` "up" or "down"); a move
    past either end changes nothing. Raises EventNotFound."""
    event = (await event_desk(session, event_id)).event
    number = parse_id(example_id)
    if number is None:
        return
    moved = await catalogue.move_example(
        session, event_id=event.id, example_id=number, by=-1 if direction == "up" else 1
    )
    if moved:
        await audit.record(
            session,
            organiser,
            "event.example_moved",
            f"event:{event.id}",
            now=now,
            example=number,
        )


async def unlink_example(
    session: AsyncSession, organiser: Organiser, event_id: int, example_id: str, now: datetime
) -> None:
    """Remove a linked example from the event's list. Raises EventNotFound."""
    event = (await event_desk(session, event_id)).event
    number = parse_id(example_id)
    if number is None:
        return
    if await catalogue.unlink_example(session, event_id=event.id, example_id=number):
        await audit.record(
            session,
            organiser,
            "event.example_unlinked",
            f"event:{event.id}",
            now=now,
            example=number,
        )


# Series.


@dataclass(frozen=True)
class SeriesPreview:
    """The dates a series form would create, each with the holiday it falls on, if any."""

    plan: series_dates.SeriesPlan
    dates: list[series_dates.PlannedDate]


def _read_series(values: Form) -> series_dates.SeriesPlan:
    errors: dict[str, str] = {}
    # Left empty, the address is made from the title; only a typed one can be wrong.
    slug = values.get("slug", "").strip() or slug_from(values.get("title", ""))
    if not is_slug(slug):
        errors["slug"] = MSG_SLUG
    first_day = date(2000, 1, 1)
    try:
        first_day = date.fromisoformat(values.get("first_day", "").strip())
    except ValueError:
        errors["first_day"] = MSG_DAY
    clock = {}
    for name in ("starts", "ends"):
        try:
            # 12.00 is how Swedish writes 12:00.
            clock[name] = time.fromisoformat(values.get(name, "").strip().replace(".", ":"))
        except ValueError:
            errors[name] = MSG_CLOCK
            clock[name] = time(0)
    capacity = _number(values, "capacity", errors)
    count = _number(values, "count", errors)
    every_weeks = 2 if values.get("every_weeks") == "2" else 1
    offsets = read_reminder_offsets(values.get("reminder_offsets", ""), errors)
    plan = series_dates.SeriesPlan(
        slug=slug,
        title=values.get("title", ""),
        summary=values.get("summary", ""),
        description=values.get("description", ""),
        host=values.get("host", ""),
        join_url=values.get("join_url", ""),
        venue=values.get("venue", ""),
        first_day=first_day,
        starts=clock["starts"].replace(tzinfo=None),
        ends=clock["ends"].replace(tzinfo=None),
        count=count,
        every_weeks=every_weeks,
        capacity=capacity,
        reminder_offsets=offsets,
        publish=values.get("publish") == "yes",
        errors=errors,
    )
    series_dates.check_plan(plan)
    return plan


async def preview_series(
    session: AsyncSession, values: Form, *, tz: str, language: str
) -> SeriesPreview:
    """What the series form would create, writing nothing. Raises InvalidEvent."""
    plan = _read_series(values)
    if "slug" not in plan.errors and await session.scalar(
        select(Series.id).where(Series.slug == plan.slug)
    ):
        plan.errors["slug"] = MSG_SERIES_TAKEN
    if plan.errors.keys() & {"first_day", "starts", "ends", "count"}:
        raise InvalidEvent(plan.errors)
    # plan_dates raises the plan's other faults together with any of the dates'.
    return SeriesPreview(plan, series_dates.plan_dates(plan, tz=tz, language=language))


async def create_series(
    session: AsyncSession,
    organiser: Organiser,
    values: Form,
    chosen: Sequence[str],
    *,
    tz: str,
    site_domain: str,
    now: datetime,
) -> tuple[Series, list[Event]]:
    """Create the series and its chosen dates (ISO days from the preview). Raises
    InvalidEvent; nothing is created then."""
    preview = await preview_series(session, values, tz=tz, language="sv")
    days = []
    for raw in chosen:
        try:
            days.append(date.fromisoformat(raw))
        except ValueError:
            raise InvalidEvent({"dates": series_dates.MSG_DATE_NOT_PLANNED}) from None
    series, events = await series_dates.create_planned_series(
        session, preview.plan, days, tz=tz, site_domain=site_domain
    )
    await audit.record(
        session,
        organiser,
        "series.created",
        f"series:{series.id}",
        now=now,
        events=len(events),
        dropped=len(preview.dates) - len(events),
        published=preview.plan.publish,
    )
    return series, events
