"""Guide examples sorted by challenge, and the ordered links from events to them."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.database import Base

example_challenges = Table(
    "guide_example_challenges",
    Base.metadata,
    Column("example_id", ForeignKey("guide_examples.id", ondelete="CASCADE"), primary_key=True),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
)


class Challenge(Base):
    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class GuideExample(Base):
    __tablename__ = "guide_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str | None] = mapped_column(String(500))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")

    challenges: Mapped[list[Challenge]] = relationship(
        secondary=example_challenges, order_by="Challenge.name"
    )


class EventGuideLink(Base):
    """An event discusses an example; `position` orders them, `note` says why it matters."""

    __tablename__ = "event_guide_links"
    __table_args__ = (UniqueConstraint("event_id", "example_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("guide_examples.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")

    example: Mapped[GuideExample] = relationship()
