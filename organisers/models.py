"""Organiser accounts and what signs them in: sessions, access tokens, one-time links.

Only hashes of secrets are stored (SHA-256 of a 256-bit random token; argon2 for passwords),
so a copy of the database signs nobody in.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.database import Base
from foundation.timestamps import UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, accounts and the audit log included
    ORGANISER = "organiser"  # series, events, attendees and messages


def _values(e: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in e]


class Organiser(Base):
    __tablename__ = "organisers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=_values)
    )
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None: not set yet
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class OrganiserSession(Base):
    """A signed-in browser. Revoked by signing out, by an admin, or by disabling the account."""

    __tablename__ = "organiser_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organiser: Mapped[Organiser] = relationship()


class AccessToken(Base):
    """A personal access token for the organiser API (`Authorization: Bearer …`)."""

    __tablename__ = "organiser_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organiser: Mapped[Organiser] = relationship()


class LinkPurpose(enum.StrEnum):
    INVITE = "invite"  # set a first password
    RESET = "reset"  # forgot password


class AccountLink(Base):
    """A one-time link mailed to an organiser to set a password."""

    __tablename__ = "organiser_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[LinkPurpose] = mapped_column(
        Enum(LinkPurpose, native_enum=False, length=20, values_callable=_values)
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organiser: Mapped[Organiser] = relationship()


class AuditEntry(Base):
    """One organiser action: who, what, on what, when. Never an attendee's personal data:
    `detail` holds ids and counts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(200))  # the organiser's name then, or "system"
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200), default="")  # "event:12", "account:3"
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
