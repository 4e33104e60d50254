"""Publishing, rescheduling and cancelling events: the organiser's rules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.errors import (
    AlreadyCancelled,
    DraftNotCancelled,
    EventNotFound,
    HasRegistrations,
    InvalidEvent,
    NotADraft,
    NotPublished,
    SeriesNotFound,
)
from events.models import Event, EventKind, EventRemoval, EventStatus, Series
from events.rules import (
    MSG_BELOW_CONFIRMED,
    MSG_ENDS_IN_PAST,
    MSG_SLUG,
    MSG_STARTS_IN_PAST,
    TEXT_FIELD_NAMES,
    PlaceMissing,
    check_capacity,
    check_place,
    check_times,
    clean_text_fields,
    raise_if_any,
)
from foundation.errors import N_, FilledMessage
from foundation.ids import is_id
from foundation.slugs import is_slug
from foundation.timestamps import utcnow
from foundation.typed_times import place_typed

# Changing any of these moves the event in attendees' calendars, so SEQUENCE must grow.
CALENDAR_FIELDS = ("starts_at", "ends_at", "venue", "join_url", "title")
# What someone without a seat sees of an event: all of it but the join link.
PUBLIC_FIELDS = ("starts_at", "ends_at", "venue", "title")

# How many confirmed seats an event has; registrations.waitlist.count_confirmed, passed in
# because the events package must not import registrations.
CountConfirmed = Callable[[AsyncSession, int], Awaitable[int]]


@dataclass
class EventDraft:
    title: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    summary: str = ""
    description: str = ""
    kind: EventKind = EventKind.CAFE
    series_slug: str | None = None
    join_url: str | None = None
    venue: str | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    publish: bool = False
    # An event that starts before now is a typo unless the organiser says otherwise
    # (recording a past café for the statistics).
    allow_past: bool = False


@dataclass
class EventChanges:
    """Only the fields that are set change."""

    title: str | None = None
    summary: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = None
    join_url: str | None = None
    venue: str | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Moving a start or an end to before now is refused unless this says it is meant.
    allow_past: bool = False


@dataclass(frozen=True)
class EventUpdate:
    event: Event
    calendar_changed: bool  # an invite's details changed: confirmed attendees are told
    capacity_raised: bool
    public_changed: bool  # what those without a seat see changed: the waitlist is told


async def lock_event(session: AsyncSession, event_id: int) -> Event | None:
    """Load an event holding its row lock (PostgreSQL); SQLite holds the database lock.

    None when no event has that id, including ids no row can have (outside 1..2³¹−1),
    which would overflow the drivers (asyncpg int32, SQLite int64) before any query runs.
    """
    if not is_id(event_id):
        return None
    found = await session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.first()


async def locked_event(session: AsyncSession, event_id: int) -> Event:
    """`lock_event` for a change: the event holding its row lock. Raises EventNotFound
    (naming the id: the command line's asker typed it)."""
    event = await lock_event(session, event_id)
    if event is None:
        raise EventNotFound(event_id)
    return event


async def event_by_id(session: AsyncSession, event_id: int, *, say_id: bool = False) -> Event:
    """The event with `event_id` in any state, drafts included, for an organiser or the
    command line. Raises EventNotFound, naming the id when `say_id` (where the asker typed
    it); ids no row can have (outside 1..2³¹−1) are not found without a query. Its series
    comes with it, for the organiser's pages that name it."""
    event = None
    if is_id(event_id):
        event = await session.get(Event, event_id, options=[selectinload(Event.series)])
    if event is None:
        raise EventNotFound(event_id if say_id else None)
    return event


async def create_series(
    session: AsyncSession,
    *,
    slug: str,
    title: str,
    summary: str = "",
    description: str = "",
    host: str = "",
) -> Series:
    """Create a series of events under a unique slug. Raises InvalidEvent."""
    errors: dict[str, str] = {}
    if not is_slug(slug):
        errors["slug"] = MSG_SLUG
    text = clean_text_fields(
        {"title": title, "summary": summary, "description": description, "host": host}, errors
    )
    if not errors and await session.scalar(select(Series.id).where(Series.slug == slug)):
        errors["slug"] = N_("Det finns redan en serie med den adressen.")
    if errors:
        raise InvalidEvent(errors)
    series = Series(slug=slug, **text)
    session.add(series)
    await session.flush()
    return series


async def create_event(session: AsyncSession, draft: EventDraft, *, site_domain: str) -> Event:
    """Create an event (a draft unless `publish`), with its permanent calendar UID.

    Raises InvalidEvent (EventInPast when it would start before now and `allow_past` is
    not set) naming each field at fault, or SeriesNotFound.
    """
    errors: dict[str, str] = {}
    text = clean_text_fields(
        {
            "title": draft.title,
            "summary": draft.summary,
            "description": draft.description,
            "venue": draft.venue,
            "join_url": draft.join_url,
        },
        errors,
    )
    check_times(
        errors,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        opens=draft.registration_opens_at,
        closes=draft.registration_closes_at,
    )
    check_capacity(errors, draft.capacity)
    check_place(
        errors, published=draft.publish, venue=text.get("venue"), join_url=text.get("join_url")
    )
    if not draft.allow_past and "starts_at" not in errors and draft.starts_at < utcnow():
        errors["starts_at"] = MSG_STARTS_IN_PAST
    raise_if_any(errors)
    series_id = None
    if draft.series_slug:
        if is_slug(draft.series_slug):
            series_id = await session.scalar(
                select(Series.id).where(Series.slug == draft.series_slug)
            )
        if series_id is None:
            raise SeriesNotFound(draft.series_slug)
    now = utcnow()
    event = Event(
        series_id=series_id,
        kind=draft.kind,
        title=text["title"],
        summary=text["summary"],
        description=text["description"],
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=draft.capacity,
        join_url=text["join_url"] or None,
        venue=text["venue"] or None,
        registration_opens_at=draft.registration_opens_at,
        registration_closes_at=draft.registration_closes_at,
        status=EventStatus.PUBLISHED if draft.publish else EventStatus.DRAFT,
        uid=f"event-{uuid.uuid4()}@{site_domain}",
        sequence=0,
        waitlist_counter=0,
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    await session.flush()
    session.info["events_changed"] = True
    return event


async def publish_event(session: AsyncSession, event_id: int) -> Event:
    """Make a draft visible and bookable. Raises EventNotFound or InvalidEvent."""
    event = await locked_event(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise InvalidEvent({"status": N_("Ett inställt evenemang kan inte publiceras.")})
    if not (event.venue or event.join_url):  # events.rules.check_place, said as itself
        raise PlaceMissing()
    event.status = EventStatus.PUBLISHED
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return event


@dataclass(frozen=True)
class PlannedChange:
    """What `EventChanges` would do to an event, checked by every rule; nothing written.

    `new` holds each field that is set, as it would be stored (an end moved with its start,
    "" read as None for the join link and venue).
    """

    new: dict[str, Any]
    calendar_changed: bool
    capacity_raised: bool
    public_changed: bool

    def differing(self, event: Event) -> dict[str, tuple[Any, Any]]:
        """Each field whose value would change: name → (now, after)."""
        return {
            name: (getattr(event, name), value)
            for name, value in self.new.items()
            if getattr(event, name) != value
        }


async def plan_changes(
    session: AsyncSession,
    event: Event,
    changes: EventChanges,
    *,
    count_confirmed: CountConfirmed,
) -> PlannedChange:
    """Check `changes` against `event` by the rules `apply_changes` keeps, writing nothing.

    A preview calls it on the event as read; `apply_changes` on the event under its lock.
    Raises InvalidEvent (a cancelled event, a field at fault) or EventInPast.
    """
    if event.status == EventStatus.CANCELLED:
        raise InvalidEvent({"status": N_("Evenemanget är inställt och kan inte ändras.")})
    new: dict[str, Any] = {
        name: getattr(changes, name)
        for name in (
            "title",
            "summary",
            "description",
            "starts_at",
            "ends_at",
            "capacity",
            "join_url",
            "venue",
            "registration_opens_at",
            "registration_closes_at",
        )
        if getattr(changes, name) is not None
    }
    errors: dict[str, str] = {}
    new.update(clean_text_fields({k: v for k, v in new.items() if k in TEXT_FIELD_NAMES}, errors))
    # An empty string clears an optional text field.
    for name in ("join_url", "venue"):
        if new.get(name) == "":
            new[name] = None
    starts = new.get("starts_at", event.starts_at)
    ends = new.get("ends_at", event.ends_at)
    if "starts_at" in new and "ends_at" not in new:
        ends = starts + (event.ends_at - event.starts_at)  # moving keeps the length
        new["ends_at"] = ends
    # Only a change of times is held to the time rules: an event stored under older, looser
    # rules (say, two days long) must still take a new title or capacity.
    if {"starts_at", "ends_at", "registration_opens_at", "registration_closes_at"} & new.keys():
        check_times(
            errors,
            starts_at=starts,
            ends_at=ends,
            opens=new.get("registration_opens_at", event.registration_opens_at),
            closes=new.get("registration_closes_at", event.registration_closes_at),
        )
        # A form that shows no window (the change form) moves the start past it: the fault
        # is the new start's, said where the organiser typed it.
        for name in ("registration_opens_at", "registration_closes_at"):
            if name in errors and name not in new and "starts_at" not in errors:
                errors["starts_at"] = errors.pop(name)
    if not changes.allow_past and not {"starts_at", "ends_at"} & errors.keys():
        now = utcnow()
        if starts != event.starts_at and starts < now:
            errors["starts_at"] = MSG_STARTS_IN_PAST
        elif ends != event.ends_at and ends < now:
            errors["ends_at"] = MSG_ENDS_IN_PAST
    check_place(
        errors,
        published=event.status == EventStatus.PUBLISHED,
        venue=new.get("venue", event.venue),
        join_url=new.get("join_url", event.join_url),
    )
    if "capacity" in new:
        check_capacity(errors, new["capacity"])
        if "capacity" not in errors:
            confirmed = await count_confirmed(session, event.id)
            if new["capacity"] < confirmed:
                errors["capacity"] = FilledMessage(MSG_BELOW_CONFIRMED, confirmed=confirmed)
    raise_if_any(errors)
    return PlannedChange(
        new=new,
        calendar_changed=any(
            name in new and new[name] != getattr(event, name) for name in CALENDAR_FIELDS
        ),
        capacity_raised=new.get("capacity", event.capacity) > event.capacity,
        public_changed=any(
            name in new and new[name] != getattr(event, name) for name in PUBLIC_FIELDS
        ),
    )


async def apply_changes(
    session: AsyncSession,
    event_id: int,
    changes: EventChanges,
    *,
    count_confirmed: CountConfirmed,
) -> EventUpdate:
    """Change an event's fields under its lock; SEQUENCE grows when calendars must update.

    The same rules as `create_event` (see `plan_changes`), and the capacity never falls
    below the seats already confirmed (counted under the lock, so no booking slips in
    between). Raises EventNotFound, InvalidEvent or EventInPast; nothing is changed when it
    raises. Telling attendees and promoting from the waitlist is the caller's next step
    (`registrations.organising.update_event` does both), in the same transaction.
    """
    event = await locked_event(session, event_id)
    plan = await plan_changes(session, event, changes, count_confirmed=count_confirmed)
    for name, value in plan.new.items():
        setattr(event, name, value)
    if plan.calendar_changed:
        event.sequence += 1
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return EventUpdate(
        event=event,
        calendar_changed=plan.calendar_changed,
        capacity_raised=plan.capacity_raised,
        public_changed=plan.public_changed,
    )


async def mark_cancelled(session: AsyncSession, event_id: int) -> Event:
    """Cancel an event under its lock; SEQUENCE grows so calendars drop it.

    Raises EventNotFound, AlreadyCancelled (the one rule: a second cancel tells nobody and
    logs nothing), or DraftNotCancelled for a draft: a cancelled event is shown as
    cancelled, and a draft must never become public.
    """
    event = await locked_event(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise AlreadyCancelled()
    if event.status == EventStatus.DRAFT:
        raise DraftNotCancelled()
    now = utcnow()
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    event.cancelled_at = now
    event.updated_at = now
    session.info["events_changed"] = True
    return event


async def published_events(session: AsyncSession, event_ids: Sequence[int]) -> list[Event]:
    """The published events among `event_ids`, by start time."""
    if not event_ids:
        return []
    return list(
        (
            await session.scalars(
                select(Event)
                .where(Event.id.in_(event_ids), Event.status == EventStatus.PUBLISHED)
                .order_by(Event.starts_at)
            )
        ).all()
    )


async def linkable_sessions(session: AsyncSession, now: datetime) -> list[Event]:
    """The events a guide process's steps may name as their sessions ("Tillfällen:") at
    `now`: those not over nor cancelled, drafts included, soonest first (no seat counts)."""
    return list(
        (
            await session.scalars(
                select(Event)
                .where(Event.ends_at > now, Event.status != EventStatus.CANCELLED)
                .order_by(Event.starts_at, Event.id)
            )
        ).all()
    )


def registration_window(event: Event) -> tuple[datetime | None, datetime]:
    """When booking opens (None: at once) and closes (default, and at the latest: when the
    event starts; a row stored before events.rules refused a later closing keeps one)."""
    closes = event.registration_closes_at
    return event.registration_opens_at, min(closes, event.starts_at) if closes else event.starts_at


# How many people hold a registration (confirmed or waiting) for an event;
# registrations.waitlist.count_active, passed in for the same reason as CountConfirmed.
CountRegistrations = Callable[[AsyncSession, int], Awaitable[int]]


async def unpublish_event(
    session: AsyncSession, event_id: int, *, count_registrations: CountRegistrations
) -> Event:
    """Take a published event nobody has booked back to a draft, out of every public page
    and feed. Raises EventNotFound, NotPublished, or HasRegistrations when anyone is
    confirmed or waiting (counted under the event's lock): they are told by cancelling."""
    event = await locked_event(session, event_id)
    if event.status != EventStatus.PUBLISHED:
        raise NotPublished()
    booked = await count_registrations(session, event.id)
    if booked:
        raise HasRegistrations(booked)
    event.status = EventStatus.DRAFT
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return event


async def delete_draft(session: AsyncSession, event_id: int) -> None:
    """Delete a draft for good (its guide links go with it). Raises EventNotFound or
    NotADraft: a published or cancelled event stays, so its calendar entries keep a
    meaning."""
    event = await locked_event(session, event_id)
    if event.status != EventStatus.DRAFT:
        raise NotADraft()
    # Its stamp leaves with it; the removal keeps the feeds' dates from going back.
    session.add(EventRemoval(series_id=event.series_id, removed_at=utcnow()))
    await session.delete(event)
    await session.flush()
    session.info["events_changed"] = True


def weeks_later(moment: datetime, weeks: int, tz: str) -> datetime:
    """`moment` (aware) `weeks` later at the same wall-clock time in `tz`, in UTC: a copy
    made across a change to or from summer time keeps its 12.00 instead of moving an hour.
    Raises UnclearLocalTime when that wall time is skipped or repeated on the new day."""
    if weeks == 0:
        return moment
    wall = moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None, fold=0)
    return place_typed(wall + timedelta(weeks=weeks), tz)


# A registration window for a copy: (opens, closes) from the copy's start, None each for
# the default (opens at once, closes at the start).
WindowFor = Callable[[datetime], tuple[datetime | None, datetime | None]]


async def duplicate_event(
    session: AsyncSession,
    event_id: int,
    *,
    shift: timedelta,
    site_domain: str,
    window: WindowFor | None = None,
) -> Event:
    """A new draft with the event's title, texts, capacity, place, host, reminders and
    series, every time moved by `shift`, and a new calendar UID; its registration window
    is `window`'s for the new start (None: the event's own, moved too). Raises
    EventNotFound, or InvalidEvent when the moved times break the rules (a copy may start
    in the past only if the original's copy would: a draft is a draft)."""
    source = await event_by_id(session, event_id, say_id=True)

    def moved(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment + shift

    errors: dict[str, str] = {}
    starts, ends = source.starts_at + shift, source.ends_at + shift
    opens, closes = (
        window(starts)
        if window is not None
        else (moved(source.registration_opens_at), moved(source.registration_closes_at))
    )
    check_times(errors, starts_at=starts, ends_at=ends, opens=opens, closes=closes)
    raise_if_any(errors)
    now = utcnow()
    copy = Event(
        series_id=source.series_id,
        kind=source.kind,
        title=source.title,
        summary=source.summary,
        description=source.description,
        starts_at=starts,
        ends_at=ends,
        capacity=source.capacity,
        join_url=source.join_url,
        venue=source.venue,
        registration_opens_at=opens,
        registration_closes_at=closes,
        status=EventStatus.DRAFT,
        uid=f"event-{uuid.uuid4()}@{site_domain}",
        sequence=0,
        waitlist_counter=0,
        created_at=now,
        updated_at=now,
        reminder_offsets=(
            list(source.reminder_offsets) if source.reminder_offsets is not None else None
        ),
        host=source.host,
    )
    session.add(copy)
    await session.flush()
    return copy


async def set_event_settings(
    session: AsyncSession,
    event_id: int,
    *,
    host: str,
    reminder_offsets: list[int] | None,
    registration_opens_at: datetime | None,
    registration_closes_at: datetime | None,
) -> Event:
    """An event's co-host ("" falls back to the series'), reminder offsets (minutes before
    the start; None: the series' or the site's) and registration window (None: opens at
    once, closes at the start). None of them moves a calendar entry. Raises EventNotFound
    or InvalidEvent."""
    event = await locked_event(session, event_id)
    errors: dict[str, str] = {}
    text = clean_text_fields({"host": host}, errors)
    check_times(
        errors,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        opens=registration_opens_at,
        closes=registration_closes_at,
    )
    errors.pop("ends_at", None)  # an event stored under older, looser rules keeps its times
    raise_if_any(errors)
    event.host = text["host"]
    event.reminder_offsets = reminder_offsets
    event.registration_opens_at = registration_opens_at
    event.registration_closes_at = registration_closes_at
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return event


async def set_registration_window(
    session: AsyncSession, event_id: int, opens: datetime | None, closes: datetime | None
) -> Event:
    """When booking for an event opens and closes (None: opens at once, closes at the
    start), under the event's lock; nothing else of it changes, and no calendar entry
    moves. Raises EventNotFound, or InvalidEvent under "registration_opens_at" or
    "registration_closes_at" (events.rules.check_times)."""
    event = await locked_event(session, event_id)
    errors: dict[str, str] = {}
    check_times(
        errors, starts_at=event.starts_at, ends_at=event.ends_at, opens=opens, closes=closes
    )
    errors.pop("ends_at", None)  # an event stored under older, looser rules keeps its times
    raise_if_any(errors)
    event.registration_opens_at = opens
    event.registration_closes_at = closes
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return event
