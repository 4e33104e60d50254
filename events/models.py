"""Series of cafés and the events (cafés, workshops) they hold."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.database import Base
from foundation.timestamps import UTCDateTime, utcnow


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class EventKind(enum.StrEnum):
    CAFE = "cafe"
    WORKSHOP = "workshop"


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(200), default="")
    # Minutes before start; None means the events' own setting or the site default.
    reminder_offsets: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The series' own last change: its title names its calendar feed (events.feeds).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[Event]] = relationship(back_populates="series", order_by="Event.starts_at")


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(
        Enum(
            EventKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        ),
        default=EventKind.CAFE,
    )
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    join_url: Mapped[str | None] = mapped_column(String(500))
    venue: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[EventStatus] = mapped_column(
        Enum(
            EventStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=EventStatus.DRAFT,
        index=True,
    )
    # Stable iCalendar identity: the UID never changes, SEQUENCE only grows.
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Waitlist numbers are handed out under the event's lock, so FIFO order is exact.
    waitlist_counter: Mapped[int] = mapped_column(Integer, default=0)
    # Registrations confirmed and in line, kept in step with every change of a registration's
    # status (registrations.waitlist.check_counters): a booking claims a seat by one
    # conditional update of `confirmed_count` (registrations.seat_claims), not lock and count.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Minutes before start; None falls back to the series, then to REMINDER_OFFSETS.
    reminder_offsets: Mapped[list[int] | None] = mapped_column(JSON)
    # A partner who hosts this event with the agency ("" falls back to the series' host).
    host: Mapped[str] = mapped_column(String(200), default="")

    series: Mapped[Series | None] = relationship(back_populates="events")


class EventRemoval(Base):
    """When an event left the database (a draft deleted), and from which series: a feed's
    Last-Modified never goes back below a date it once served (events.feeds), and the row
    that recorded the latest change is gone with the event."""

    __tablename__ = "event_removals"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
