"""A series in the organiser workspace: its page, and the steps that reach all its dates at
once (publish the drafts, one registration window, a guide example linked or unlinked, one
more date), each a domain call plus its audit entry, in the caller's transaction.

Forms arrive as text (`Mapping[str, str]`); times typed are wall-clock times in the site's
zone (`tz`). Nothing here changes a published date's time, place, title or capacity: those
go through the change flow (organisers.changes), which tells attendees first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from events import series_upkeep
from events.errors import InvalidEvent
from events.models import Event, EventStatus, Series
from events.rules import read_reminder_offsets, written_offsets
from events.series_upkeep import WindowRule
from foundation.errors import N_
from foundation.ids import parse_id
from foundation.slugs import is_slug
from guide import catalogue
from guide.errors import ExampleNotFound, InvalidExample
from guide.models import GuideExample
from organisers import audit, events_workspace
from organisers.errors import DraftsChangedSinceShown, NoDraftsToPublish
from organisers.events_workspace import MSG_DAY, local_field, local_offset, read_local_field
from organisers.models import Organiser
from registrations.waitlist import seat_counts

Form = Mapping[str, str]

MSG_LINKED_TO_ALL = N_("Exemplet är redan kopplat till alla datum i serien.")
MSG_NO_DATES = N_("Serien har inga datum att koppla exemplet till.")
MSG_DAYS = N_("Skriv ett antal dagar mellan 1 och 365.")
MSG_HOURS = N_("Skriv ett antal timmar mellan 0 och 720.")
MAX_OPENS_DAYS = 365
MAX_CLOSES_HOURS = 720


# The window form: how each side is given, and the field holding its value.
OPENS_FIELDS = {"days": "opens_days", "at": "opens_at"}
CLOSES_FIELDS = {"hours": "closes_hours", "at": "closes_at"}


@dataclass(frozen=True)
class SeriesDate:
    """One date with its seats taken and waitlist; `own_window`: a coming date whose
    registration window is not the one most coming dates share (set on its own page)."""

    event: Event
    confirmed: int
    waitlisted: int
    own_window: bool


@dataclass(frozen=True)
class SeriesExample:
    """A guide example some dates link: the note of the first date linking it, and how
    many dates do."""

    example: GuideExample
    note: str
    dates: int


@dataclass(frozen=True)
class SeriesDesk:
    """A series as its organiser sees it: every date in order; the coming drafts ("publish
    all" publishes these); the window most coming dates share; the examples its dates link
    (in the order the dates do), the guide's examples not yet linked to every date; and a
    day to suggest for one more date."""

    series: Series
    dates: list[SeriesDate]
    drafts: list[Event]
    coming: list[Event]
    window: WindowRule
    examples: list[SeriesExample]
    choices: list[GuideExample]
    next_day: date

    @property
    def drafts_seen(self) -> list[str]:
        """Each coming draft as the publish confirmation sends it back (`seen_as`)."""
        return [seen_as(event) for event in self.drafts]


def seen_as(event: Event) -> str:
    """`id:version` of a date as shown: the version is its last change, so a draft re-timed
    or renamed after a page listed it is told apart from the one shown."""
    return f"{event.id}:{event.updated_at:%Y%m%dT%H%M%S%f}"


async def series_desk(
    session: AsyncSession, series_id: int, *, now: datetime, tz: str
) -> SeriesDesk:
    """Read one series for its organiser page. Raises SeriesNotFound."""
    series = await series_upkeep.series_with_dates(session, series_id)
    coming = series_upkeep.coming_dates(series, now)
    window = series_upkeep.common_window(coming)
    counts = await seat_counts(session, [e.id for e in series.events])
    coming_ids = {e.id for e in coming}
    dates = [
        SeriesDate(
            event,
            *counts.get(event.id, (0, 0)),
            own_window=event.id in coming_ids and not window.follows(event),
        )
        for event in series.events
    ]
    linked = await catalogue.examples_for_events(session, [e.id for e in series.events])
    found: dict[int, SeriesExample] = {}
    for event in series.events:
        for item in linked[event.id]:
            seen = found.get(item.example.id)
            found[item.example.id] = SeriesExample(
                item.example, seen.note if seen else item.note, (seen.dates if seen else 0) + 1
            )
    everywhere = {i for i, item in found.items() if item.dates == len(series.events)}
    choices = [e for e in await catalogue.examples(session) if e.id not in everywhere]
    today = now.astimezone(ZoneInfo(tz)).date()
    return SeriesDesk(
        series=series,
        dates=dates,
        drafts=[e for e in coming if e.status == EventStatus.DRAFT],
        coming=coming,
        window=window,
        examples=list(found.values()),
        choices=choices if series.events else [],
        next_day=series_upkeep.next_day(series, tz, today),
    )


def series_values(series: Series) -> dict[str, str]:
    """The series' own fields as its edit form shows them."""
    return {
        "title": series.title,
        "summary": series.summary,
        "description": series.description,
        "host": series.host,
        "reminder_offsets": written_offsets(series.reminder_offsets),
    }


async def save_series(
    session: AsyncSession, organiser: Organiser, series_id: int, values: Form, *, now: datetime
) -> Series:
    """Save the series' edit form. Raises SeriesNotFound or InvalidEvent naming every field
    at fault (nothing is kept then: the caller's transaction rolls back)."""
    errors: dict[str, str] = {}
    offsets = read_reminder_offsets(values.get("reminder_offsets", ""), errors)
    try:
        series = await series_upkeep.update_series(
            session,
            series_id,
            title=values.get("title", ""),
            summary=values.get("summary", ""),
            description=values.get("description", ""),
            host=values.get("host", ""),
            reminder_offsets=offsets,
        )
    except InvalidEvent as exc:
        raise InvalidEvent({**exc.fields, **errors}) from None
    if errors:
        raise InvalidEvent(errors)
    await audit.record(session, organiser, "series.updated", f"series:{series.id}", now=now)
    return series


async def publish_drafts(
    session: AsyncSession,
    organiser: Organiser,
    series_id: int,
    chosen: Sequence[str],
    *,
    now: datetime,
) -> list[Event]:
    """Publish the coming drafts of the series among `chosen` (`seen_as` pairs from the
    confirmation page, so a draft added or changed since is not published unseen), each
    through the event page's own step with its own audit entry. Raises SeriesNotFound,
    DraftsChangedSinceShown (nothing published) when one of them was changed since it was
    shown, or NoDraftsToPublish when none of them is still a coming draft."""
    series = await series_upkeep.series_with_dates(session, series_id)
    shown = {
        number: raw for raw in chosen if (number := parse_id(raw.partition(":")[0])) is not None
    }
    drafts = [
        e
        for e in series_upkeep.coming_dates(series, now)
        if e.status == EventStatus.DRAFT and e.id in shown
    ]
    if any(seen_as(e) != shown[e.id] for e in drafts):
        raise DraftsChangedSinceShown()
    if not drafts:
        raise NoDraftsToPublish()
    for event in drafts:
        await events_workspace.publish(session, organiser, event.id, now)
    return drafts


def window_values(rule: WindowRule, tz: str) -> dict[str, str]:
    """A window rule as the window form shows it."""
    values = {"opens": "now", "closes": "start"}
    if rule.opens_at is not None:
        values.update(
            opens="at",
            opens_at=local_field(rule.opens_at, tz),
            opens_at_offset=local_offset(rule.opens_at, tz),
        )
    elif rule.opens_before is not None:
        days, rest = divmod(rule.opens_before, timedelta(days=1))
        values.update(opens="days", opens_days=str(days) if not rest else "")
    if rule.closes_at is not None:
        values.update(
            closes="at",
            closes_at=local_field(rule.closes_at, tz),
            closes_at_offset=local_offset(rule.closes_at, tz),
        )
    elif rule.closes_before:
        hours, rest = divmod(rule.closes_before, timedelta(hours=1))
        values.update(closes="hours", closes_hours=str(hours) if not rest else "")
    return values


def _count(
    values: Form, name: str, top: int, least: int, message: str, errors: dict[str, str]
) -> int:
    raw = values.get(name, "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 4 and least <= int(raw) <= top:
        return int(raw)
    errors[name] = message
    return least


def read_window(values: Form, tz: str) -> WindowRule:
    """The window form as a rule. Raises InvalidEvent naming the fields at fault."""
    errors: dict[str, str] = {}
    opens_before = closes_before = None
    opens_at = closes_at = None
    match values.get("opens"):
        case "days":
            days = _count(values, "opens_days", MAX_OPENS_DAYS, 1, MSG_DAYS, errors)
            opens_before = timedelta(days=days)
        case "at":
            opens_at = read_local_field(values, "opens_at", tz, errors)
            if opens_at is None and "opens_at" not in errors:
                errors["opens_at"] = events_workspace.MSG_MOMENT
    match values.get("closes"):
        case "hours":
            hours = _count(values, "closes_hours", MAX_CLOSES_HOURS, 0, MSG_HOURS, errors)
            closes_before = timedelta(hours=hours)
        case "at":
            closes_at = read_local_field(values, "closes_at", tz, errors)
            if closes_at is None and "closes_at" not in errors:
                errors["closes_at"] = events_workspace.MSG_MOMENT
    if errors:
        raise InvalidEvent(errors)
    return WindowRule(opens_before, opens_at, closes_before, closes_at)


async def set_window(
    session: AsyncSession,
    organiser: Organiser,
    series_id: int,
    values: Form,
    *,
    tz: str,
    now: datetime,
) -> list[Event]:
    """Write the window form onto every coming date of the series; its `closing` holds the
    ids (comma-separated) of the dates open now that the organiser was shown would close
    for booking. Raises SeriesNotFound, InvalidEvent (a date's window at fault is named
    under the field that sets it) or WindowClosesBooking (nothing written: the dates it
    would close now differ from those shown)."""
    rule = read_window(values, tz)
    closing = [n for raw in values.get("closing", "").split(",") if (n := parse_id(raw.strip()))]
    try:
        dates = await series_upkeep.set_window(
            session, series_id, rule, now=now, closing_seen=closing
        )
    except InvalidEvent as exc:
        fields = {
            "opens": OPENS_FIELDS.get(values.get("opens", ""), "opens"),
            "closes": CLOSES_FIELDS.get(values.get("closes", ""), "closes"),
        }
        raise InvalidEvent({fields.get(k, k): v for k, v in exc.fields.items()}) from None
    await audit.record(
        session, organiser, "series.window_set", f"series:{series_id}", now=now, events=len(dates)
    )
    return dates


async def link_example(
    session: AsyncSession,
    organiser: Organiser,
    series_id: int,
    example_slug: str,
    note: str,
    now: datetime,
) -> int:
    """Link a guide example, with a note on why, to every date of the series not yet
    linking it (last in each date's list); how many dates. Raises SeriesNotFound,
    ExampleNotFound or InvalidExample (the note, or no date left to link)."""
    series = await series_upkeep.series_with_dates(session, series_id)
    if not series.events:
        raise InvalidExample({"example": MSG_NO_DATES})
    example = await catalogue.get_example(session, example_slug) if is_slug(example_slug) else None
    if example is None:
        raise ExampleNotFound()
    linked = await catalogue.examples_for_events(session, [e.id for e in series.events])
    missing = [e for e in series.events if all(i.example.id != example.id for i in linked[e.id])]
    if not missing:
        raise InvalidExample({"example": MSG_LINKED_TO_ALL})
    for event in missing:
        await catalogue.link_example(
            session, event_id=event.id, example_slug=example.slug, note=note
        )
    await audit.record(
        session,
        organiser,
        "series.example_linked",
        f"series:{series.id}",
        now=now,
        example=example.id,
        events=len(missing),
    )
    return len(missing)


async def unlink_example(
    session: AsyncSession, organiser: Organiser, series_id: int, example_id: str, now: datetime
) -> int:
    """Remove a guide example from every date of the series; how many dates had it.
    Raises SeriesNotFound."""
    series = await series_upkeep.series_with_dates(session, series_id)
    number = parse_id(example_id)
    if number is None:
        return 0
    removed = 0
    for event in series.events:
        removed += await catalogue.unlink_example(session, event_id=event.id, example_id=number)
    if removed:
        await audit.record(
            session,
            organiser,
            "series.example_unlinked",
            f"series:{series.id}",
            now=now,
            example=number,
            events=removed,
        )
    return removed


async def add_date(
    session: AsyncSession,
    organiser: Organiser,
    series_id: int,
    day: str,
    offset: str = "",
    *,
    tz: str,
    site_domain: str,
    now: datetime,
) -> Event:
    """A new draft on `day` (ISO, as a date field sends it) like the series' latest date,
    with its guide examples in the same order and notes, and the series' common window;
    `offset` (the form's `day_offset`) picks a reading where the clocks repeat its time
    that night. Raises SeriesNotFound or
    InvalidEvent (EventInPast, a time the clocks skip or repeat unchosen) under "day"."""
    try:
        chosen = date.fromisoformat(day.strip())
    except ValueError:
        raise InvalidEvent({"day": MSG_DAY}) from None
    copy, source = await series_upkeep.add_date(
        session, series_id, chosen, tz=tz, site_domain=site_domain, now=now, offset=offset.strip()
    )
    examples = await catalogue.copy_links(session, from_event_id=source.id, to_event_id=copy.id)
    await audit.record(
        session,
        organiser,
        "series.date_added",
        f"series:{series_id}",
        now=now,
        event=copy.id,
        source=source.id,
        examples=examples,
    )
    return copy
