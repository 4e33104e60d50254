"""A person's seat (or place in line) at one event."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models import Event
from foundation.database import Base
from foundation.timestamps import UTCDateTime, utcnow


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email_normalised"),
        Index("ix_registrations_event_status", "event_id", "status", "waitlist_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320), index=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    municipality: Mapped[str] = mapped_column(String(200), default="")
    # The language the booking was made in (foundation.i18n.LANGUAGES): every later mail to
    # this person, and the text of their invite, is in it (notices.compose).
    language: Mapped[str] = mapped_column(String(8), default="sv", server_default="sv")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RegistrationStatus] = mapped_column(
        Enum(
            RegistrationStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    waitlist_number: Mapped[int | None] = mapped_column(Integer)
    # Added to the event's SEQUENCE in this person's invites: their own cancel and rebook
    # must outrank what their calendar already holds, without touching everyone else's.
    sequence_bump: Mapped[int] = mapped_column(Integer, default=0)
    # The manage token is derived from this nonce with the secret key and only its hash
    # is stored, so a database dump alone opens no manage page.
    token_nonce: Mapped[str] = mapped_column(String(64))
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Checked in on the day by an organiser: True present, False no-show, None not yet.
    attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()

    def invite_sequence(self, event: Event) -> int:
        """The SEQUENCE of this attendee's invite for `event` (RFC 5546 §2.1.4, ICAL.md): the
        event's own, which each change of time or place raises, plus this attendee's own
        cancels and rebookings, so every new REQUEST or CANCEL outranks what they hold."""
        return event.sequence + self.sequence_bump


class AttendeeFeed(Base):
    """A person's own calendar feed, one per e-mail address, revocable by a new nonce."""

    __tablename__ = "attendee_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_normalised: Mapped[str] = mapped_column(String(320), unique=True)
    token_nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
