"""The outbox: every message a person must receive, written with the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.database import Base
from foundation.timestamps import UTCDateTime, utcnow


class MessageKind(enum.StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    REMINDER = "reminder"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    REGISTRATION_CANCELLED = "registration_cancelled"
    ORGANISER_MESSAGE = "organiser_message"
    FOLLOW_UP = "follow_up"
    # The personal calendar got a new address: it goes to the address, never to a page.
    FEED_REPLACED = "feed_replaced"
    # An organiser's one-time link to set a first password, or a new one: the row belongs to
    # no event or registration (payload: link_id and nonce; organisers/password_links.py).
    ORGANISER_INVITE = "organiser_invite"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a kind of mail, not a password)
    # A link to a person's own data (registrations/personal_data.py), asked for at /my-data:
    # the token is made at delivery from the payload (feed_id, language), stored nowhere.
    MY_DATA_LINK = "my_data_link"
    # An organiser's decision on a proposal to the guide ('Dela med dig'), to its proposer
    # (payload: proposal_id; guide/proposals.py).
    PROPOSAL_APPROVED = "proposal_approved"
    PROPOSAL_REJECTED = "proposal_rejected"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Made moot before delivery: a reminder for a seat that was given up, say.
    SKIPPED = "skipped"


class Audience(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ALL = "all"


def _values(e: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in e]


class OutboxMessage(Base):
    """One message to one recipient. Content is composed at delivery from current data."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(
        Enum(MessageKind, native_enum=False, length=40, values_callable=_values)
    )
    recipient: Mapped[str] = mapped_column(String(320))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser_sends.id", ondelete="SET NULL"), index=True
    )
    # Snapshot of what the message needs that may change before delivery (a sequence
    # number, an organiser's text, a waitlist position).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=20, values_callable=_values),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrganiserSend(Base):
    """One reminder or message an organiser sent to many; its rows show the progress."""

    __tablename__ = "organiser_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MessageKind] = mapped_column(
        Enum(MessageKind, native_enum=False, length=40, values_callable=_values)
    )
    audience: Mapped[Audience] = mapped_column(
        Enum(Audience, native_enum=False, length=20, values_callable=_values)
    )
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """A delivery worker's last sign of life, kept in the database so that it outlives Redis:
    `/readyz` shows when mail was last looked after, and whether through arq or alone."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # False while Redis is unreachable and the worker delivers from the database on its own.
    redis_ok: Mapped[bool] = mapped_column(Boolean)
