"""The development guide's material: examples, tips (methods), processes in phases and steps,
the challenges they are sorted by, and the ordered links from events to them.

Ordered lists of short texts (an example's activities, results and lessons, a tip's
reflection questions) are JSON arrays of strings: one column, read and written whole, the
same on SQLite and PostgreSQL, order kept. Ordered links between rows (a tip's examples, a
step's examples and sessions, an event's examples and methods) are tables with a `position`.
"""

from __future__ import annotations

import enum
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.database import Base
from foundation.errors import N_
from foundation.timestamps import utcnow


class OrganisationType(enum.StrEnum):
    """Who ran an example; the value is stored and used in URLs, the label is shown."""

    KOMMUN = "kommun"
    REGION = "region"
    LANSSTYRELSE = "lansstyrelse"
    MYNDIGHET = "myndighet"

    @property
    def label(self) -> str:
        """The Swedish msgid to show (translate it with `_()`)."""
        return ORGANISATION_TYPE_LABELS[self]


ORGANISATION_TYPE_LABELS = {
    OrganisationType.KOMMUN: N_("Kommun"),
    OrganisationType.REGION: N_("Region"),
    OrganisationType.LANSSTYRELSE: N_("Länsstyrelse"),
    OrganisationType.MYNDIGHET: N_("Myndighet"),
}


def today() -> date:
    """Today's date in Sweden: the guide's published and updated dates are Swedish
    calendar dates, whatever zone the server runs in."""
    return utcnow().astimezone(_SWEDEN).date()


_SWEDEN = ZoneInfo("Europe/Stockholm")


def _values(kind: type[enum.Enum]) -> list[str]:
    return [member.value for member in kind]


example_challenges = Table(
    "guide_example_challenges",
    Base.metadata,
    Column("example_id", ForeignKey("guide_examples.id", ondelete="CASCADE"), primary_key=True),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
)

tip_challenges = Table(
    "guide_tip_challenges",
    Base.metadata,
    Column("tip_id", ForeignKey("guide_tips.id", ondelete="CASCADE"), primary_key=True),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
)

process_challenges = Table(
    "guide_process_challenges",
    Base.metadata,
    Column("process_id", ForeignKey("guide_processes.id", ondelete="CASCADE"), primary_key=True),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
)


class Challenge(Base):
    """A challenge the guide is sorted by (förenkling, företagsklimat, …); `position` orders
    them on the browse page (ties by name)."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class GuideExample(Base):
    """A good example (gott exempel): what an organisation did, what came of it, whom to call.

    `summary` is the "på 30 sekunder" text, `body` Markdown. The fact box (`inhabitants`,
    `project_owner`, `project_period`, `funding`) is None where unknown. `organisation_type`
    is None only for rows from before it was asked (migration 0010 fills in what it can tell
    from the name).
    """

    __tablename__ = "guide_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200))
    organisation_type: Mapped[OrganisationType | None] = mapped_column(
        Enum(
            OrganisationType,
            name="organisation_type",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=_values,
        )
    )
    region: Mapped[str] = mapped_column(String(100), default="")  # "Södermanlands län"
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    inhabitants: Mapped[int | None] = mapped_column(Integer)
    project_owner: Mapped[str | None] = mapped_column(String(200))
    project_period: Mapped[str | None] = mapped_column(String(100))  # "2021–2023"
    funding: Mapped[str | None] = mapped_column(String(300))
    activities: Mapped[list[str]] = mapped_column(JSON, default=list)
    results: Mapped[list[str]] = mapped_column(JSON, default=list)
    lessons: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_url: Mapped[str | None] = mapped_column(String(500))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_role: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(8), default="sv")
    published_on: Mapped[date] = mapped_column(Date, default=today)
    updated_on: Mapped[date] = mapped_column(Date, default=today)

    challenges: Mapped[list[Challenge]] = relationship(
        secondary=example_challenges, order_by="Challenge.name"
    )

    @property
    def type_to_show(self) -> OrganisationType | None:
        """The organisation's type, unless a word of its name already says it ("Region
        Sörmland", "Kramfors kommun", "Länsstyrelsen i Dalarnas län"): "Region Sörmland
        (Region)" says it twice."""
        kind = self.organisation_type
        if kind is None:
            return None
        label = kind.label.casefold()
        if any(word.startswith(label) for word in self.organisation.casefold().split()):
            return None
        return kind


class TipExample(Base):
    """ "Hur har andra gjort?": an example that shows a tip, in the tip's order."""

    __tablename__ = "guide_tip_examples"

    tip_id: Mapped[int] = mapped_column(
        ForeignKey("guide_tips.id", ondelete="CASCADE"), primary_key=True
    )
    example_id: Mapped[int] = mapped_column(
        ForeignKey("guide_examples.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    example: Mapped[GuideExample] = relationship(lazy="joined")


class GuideTip(Base):
    """A numbered tip or method ("2. Hitta gemensamma mål och resurser"): a short Markdown
    `text`, the "Tänk på det här!" `questions` in order, and the examples that show it."""

    __tablename__ = "guide_tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_on: Mapped[date] = mapped_column(Date, default=today)
    updated_on: Mapped[date] = mapped_column(Date, default=today)

    challenges: Mapped[list[Challenge]] = relationship(
        secondary=tip_challenges, order_by="Challenge.name"
    )
    example_links: Mapped[list[TipExample]] = relationship(
        order_by=TipExample.position, cascade="all, delete-orphan"
    )

    @property
    def examples(self) -> list[GuideExample]:
        """The linked examples in order (load `example_links` first)."""
        return [link.example for link in self.example_links]


class GuideProcess(Base):
    """A method in ordered steps grouped in phases, with a checkpoint after a phase."""

    __tablename__ = "guide_processes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")  # Markdown
    published_on: Mapped[date] = mapped_column(Date, default=today)
    updated_on: Mapped[date] = mapped_column(Date, default=today)

    challenges: Mapped[list[Challenge]] = relationship(
        secondary=process_challenges, order_by="Challenge.name"
    )
    phases: Mapped[list[ProcessPhase]] = relationship(
        order_by="ProcessPhase.position", cascade="all, delete-orphan", back_populates="process"
    )


class ProcessPhase(Base):
    """A phase of a process; `checkpoint` (Markdown, "" for none) is what must hold before the
    next phase begins."""

    __tablename__ = "guide_process_phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("guide_processes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    checkpoint: Mapped[str] = mapped_column(Text, default="")

    process: Mapped[GuideProcess] = relationship(back_populates="phases")
    steps: Mapped[list[ProcessStep]] = relationship(
        order_by="ProcessStep.position", cascade="all, delete-orphan", back_populates="phase"
    )


class StepExample(Base):
    """An example that shows a process step, in the step's order."""

    __tablename__ = "guide_step_examples"

    step_id: Mapped[int] = mapped_column(
        ForeignKey("guide_process_steps.id", ondelete="CASCADE"), primary_key=True
    )
    example_id: Mapped[int] = mapped_column(
        ForeignKey("guide_examples.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    example: Mapped[GuideExample] = relationship(lazy="joined")


class StepEvent(Base):
    """A session (a café or a workshop) that works on a process step, in the step's order.
    Readers see only the published ones that have not ended (guide.methods.step_sessions)."""

    __tablename__ = "guide_step_events"

    step_id: Mapped[int] = mapped_column(
        ForeignKey("guide_process_steps.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProcessStep(Base):
    """A step of a phase; steps are numbered 1, 2, … across the whole process."""

    __tablename__ = "guide_process_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(
        ForeignKey("guide_process_phases.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")  # Markdown

    phase: Mapped[ProcessPhase] = relationship(back_populates="steps")
    example_links: Mapped[list[StepExample]] = relationship(
        order_by=StepExample.position, cascade="all, delete-orphan"
    )
    event_links: Mapped[list[StepEvent]] = relationship(
        order_by=StepEvent.position, cascade="all, delete-orphan"
    )

    @property
    def examples(self) -> list[GuideExample]:
        """The linked examples in order (load `example_links` first)."""
        return [link.example for link in self.example_links]

    @property
    def event_ids(self) -> list[int]:
        """The linked sessions' ids in order, whatever their state (load `event_links`)."""
        return [link.event_id for link in self.event_links]


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


class EventMethodLink(Base):
    """An event works with a tip or a process (exactly one of them); ordered and noted as
    an event's examples are. Kept apart from EventGuideLink so every reader of an event's
    examples stays as it was."""

    __tablename__ = "event_method_links"
    __table_args__ = (
        UniqueConstraint("event_id", "tip_id"),
        UniqueConstraint("event_id", "process_id"),
        CheckConstraint("(tip_id IS NULL) <> (process_id IS NULL)", name="one_method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    tip_id: Mapped[int | None] = mapped_column(
        ForeignKey("guide_tips.id", ondelete="CASCADE"), index=True
    )
    process_id: Mapped[int | None] = mapped_column(
        ForeignKey("guide_processes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")

    tip: Mapped[GuideTip | None] = relationship()
    process: Mapped[GuideProcess | None] = relationship()
