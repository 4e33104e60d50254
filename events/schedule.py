"""Publishing, rescheduling and cancelling events: the organiser's rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import EventNotFound, InvalidEvent, SeriesNotFound
from events.models import Event, EventKind, EventStatus, Series
from lunchkafe.timestamps import utcnow

# Changing any of these moves the event in attendees' calendars, so SEQUENCE must grow.
CALENDAR_FIELDS = ("starts_at", "ends_at", "venue", "join_url", "title")


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


@dataclass(frozen=True)
class EventUpdate:
    event: Event
    calendar_changed: bool
    capacity_raised: bool


async def lock_event(session: AsyncSession, event_id: int) -> Event | None:
    """Load an event holding its row lock (PostgreSQL); SQLite holds the database lock."""
    found = await session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.first()


async def create_series(
    session: AsyncSession,
    *,
    slug: str,
    title: str,
    summary: str = "",
    description: str = "",
    host: str = "",
) -> Series:
    """Create a series of events under a unique slug."""
    errors: dict[str, str] = {}
    if not slug or not all(c.isalnum() or c == "-" for c in slug) or slug != slug.lower():
        errors["slug"] = "Använd gemena bokstäver, siffror och bindestreck."
    if not title.strip():
        errors["title"] = "Ange en titel."
    if not errors and await session.scalar(select(Series.id).where(Series.slug == slug)):
        errors["slug"] = "Det finns redan en serie med den adressen."
    if errors:
        raise InvalidEvent(errors)
    series = Series(
        slug=slug, title=title.strip(), summary=summary, description=description, host=host
    )
    session.add(series)
    await session.flush()
    return series


async def create_event(session: AsyncSession, draft: EventDraft, *, site_domain: str) -> Event:
    """Create an event (a draft unless `publish`), with its permanent calendar UID."""
    _validate(
        title=draft.title,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=draft.capacity,
        join_url=draft.join_url,
        opens=draft.registration_opens_at,
        closes=draft.registration_closes_at,
    )
    series_id = None
    if draft.series_slug:
        series_id = await session.scalar(select(Series.id).where(Series.slug == draft.series_slug))
        if series_id is None:
            raise SeriesNotFound(draft.series_slug)
    now = utcnow()
    event = Event(
        series_id=series_id,
        kind=draft.kind,
        title=draft.title.strip(),
        summary=draft.summary,
        description=draft.description,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=draft.capacity,
        join_url=draft.join_url or None,
        venue=draft.venue or None,
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
    """Make a draft visible and bookable."""
    event = await lock_event(session, event_id)
    if event is None:
        raise EventNotFound(event_id)
    if event.status == EventStatus.CANCELLED:
        raise InvalidEvent({"status": "Ett inställt evenemang kan inte publiceras."})
    event.status = EventStatus.PUBLISHED
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return event


async def apply_changes(session: AsyncSession, event_id: int, changes: EventChanges) -> EventUpdate:
    """Change an event's fields under its lock; SEQUENCE grows when calendars must update.

    Telling attendees and promoting from the waitlist is the caller's next step
    (`events.organising.update_event` does both), in the same transaction.
    """
    event = await lock_event(session, event_id)
    if event is None:
        raise EventNotFound(event_id)
    if event.status == EventStatus.CANCELLED:
        raise InvalidEvent({"status": "Evenemanget är inställt och kan inte ändras."})
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
    # An empty string clears an optional text field.
    for name in ("join_url", "venue"):
        if new.get(name) == "":
            new[name] = None
    starts = new.get("starts_at", event.starts_at)
    ends = new.get("ends_at", event.ends_at)
    if "starts_at" in new and "ends_at" not in new:
        ends = starts + (event.ends_at - event.starts_at)  # moving keeps the length
        new["ends_at"] = ends
    _validate(
        title=new.get("title", event.title),
        starts_at=starts,
        ends_at=ends,
        capacity=new.get("capacity", event.capacity),
        join_url=new.get("join_url", event.join_url),
        opens=new.get("registration_opens_at", event.registration_opens_at),
        closes=new.get("registration_closes_at", event.registration_closes_at),
    )
    calendar_changed = any(
        name in new and new[name] != getattr(event, name) for name in CALENDAR_FIELDS
    )
    capacity_raised = new.get("capacity", event.capacity) > event.capacity
    for name, value in new.items():
        setattr(event, name, value)
    if calendar_changed:
        event.sequence += 1
    event.updated_at = utcnow()
    session.info["events_changed"] = True
    return EventUpdate(
        event=event, calendar_changed=calendar_changed, capacity_raised=capacity_raised
    )


async def mark_cancelled(session: AsyncSession, event_id: int) -> Event:
    """Cancel an event under its lock; SEQUENCE grows so calendars drop it."""
    event = await lock_event(session, event_id)
    if event is None:
        raise EventNotFound(event_id)
    if event.status == EventStatus.CANCELLED:
        return event
    now = utcnow()
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    event.cancelled_at = now
    event.updated_at = now
    session.info["events_changed"] = True
    return event


def registration_window(event: Event) -> tuple[datetime | None, datetime]:
    """When booking opens (None: at once) and closes (default: when the event starts)."""
    return event.registration_opens_at, event.registration_closes_at or event.starts_at


def _validate(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    join_url: str | None,
    opens: datetime | None,
    closes: datetime | None,
) -> None:
    errors: dict[str, str] = {}
    if not title or not title.strip():
        errors["title"] = "Ange en titel."
    elif len(title) > 200:
        errors["title"] = "Titeln får vara högst 200 tecken."
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors["starts_at"] = "Tiden måste ha en tidszon."
    elif ends_at <= starts_at:
        errors["ends_at"] = "Sluttiden måste vara efter starttiden."
    elif ends_at - starts_at > timedelta(days=7):
        errors["ends_at"] = "Ett evenemang kan vara högst sju dagar långt."
    if capacity < 1 or capacity > 100_000:
        errors["capacity"] = "Antalet platser måste vara mellan 1 och 100 000."
    if join_url:
        parts = urlsplit(join_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors["join_url"] = "Länken måste börja med https:// eller http://."
    if opens is not None and closes is not None and closes <= opens:
        errors["registration_closes_at"] = "Anmälan måste stänga efter att den öppnar."
    if errors:
        raise InvalidEvent(errors)
