"""Tips and processes (the guide's methods) as readers see them, and the events that work
with them: an event links a tip or a process as it links examples, ordered, with a note."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from events.models import Event
from events.schedule import published_events
from foundation.errors import N_
from foundation.slugs import is_slug
from foundation.text import MSG_TOO_LONG, TextRefused, clean_line
from guide.editing import process_input, save_process
from guide.errors import InvalidProcess, InvalidTip, ProcessNotFound, TipNotFound
from guide.models import (
    Challenge,
    EventMethodLink,
    GuideExample,
    GuideProcess,
    GuideTip,
    ProcessPhase,
    ProcessStep,
)

MAX_NOTE = 300
MSG_NOTE_TOO_LONG = N_("Högst 300 tecken.")
MSG_METHOD_LINKED = N_("Metoden är redan kopplad till evenemanget.")
MSG_NO_SUCH_STEP = N_("Processen har inget sådant steg.")


def _tip_query() -> Select[GuideTip]:
    return select(GuideTip).options(
        selectinload(GuideTip.challenges),
        selectinload(GuideTip.example_links),
    )


def _process_query() -> Select[GuideProcess]:
    return select(GuideProcess).options(
        selectinload(GuideProcess.challenges),
        selectinload(GuideProcess.phases)
        .selectinload(ProcessPhase.steps)
        .options(selectinload(ProcessStep.example_links), selectinload(ProcessStep.event_links)),
    )


async def tips(session: AsyncSession, challenge_slug: str | None = None) -> list[GuideTip]:
    """Every tip, or those filed under one challenge, by number then title; each with its
    challenges and examples loaded."""
    query = _tip_query()
    if challenge_slug:
        query = query.where(GuideTip.challenges.any(Challenge.slug == challenge_slug))
    return list((await session.scalars(query.order_by(GuideTip.number, GuideTip.title))).all())


async def get_tip(session: AsyncSession, slug: str) -> GuideTip | None:
    """The tip `slug` names, its challenges and examples (`tip.examples`, in order) loaded."""
    if not is_slug(slug):
        return None
    return (await session.scalars(_tip_query().where(GuideTip.slug == slug))).first()


async def processes(session: AsyncSession, challenge_slug: str | None = None) -> list[GuideProcess]:
    """Every process, or those under one challenge, by title; phases and steps loaded."""
    query = _process_query()
    if challenge_slug:
        query = query.where(GuideProcess.challenges.any(Challenge.slug == challenge_slug))
    return list((await session.scalars(query.order_by(GuideProcess.title))).all())


async def get_process(session: AsyncSession, slug: str) -> GuideProcess | None:
    """The process `slug` names with its challenges, phases, steps and their examples."""
    if not is_slug(slug):
        return None
    return (await session.scalars(_process_query().where(GuideProcess.slug == slug))).first()


@dataclass(frozen=True)
class NumberedStep:
    """A step and its number in the whole process (1, 2, … across phases)."""

    number: int
    step: ProcessStep

    @property
    def examples(self) -> list[GuideExample]:
        return self.step.examples


@dataclass(frozen=True)
class PhaseView:
    """A phase with its steps numbered; `checkpoint` ("" for none) comes after its steps."""

    number: int
    phase: ProcessPhase
    steps: list[NumberedStep]

    @property
    def checkpoint(self) -> str:
        return self.phase.checkpoint


def numbered_phases(process: GuideProcess) -> list[PhaseView]:
    """The process' phases (numbered from 1) with their steps numbered across phases."""
    views: list[PhaseView] = []
    number = 0
    for p, phase in enumerate(process.phases, start=1):
        steps = []
        for step in phase.steps:
            number += 1
            steps.append(NumberedStep(number, step))
        views.append(PhaseView(p, phase, steps))
    return views


@dataclass(frozen=True)
class TipPage:
    """A tip, its examples in order, and the upcoming published events that work with it."""

    tip: GuideTip
    examples: list[GuideExample]
    events: list[Event]


@dataclass(frozen=True)
class ProcessPage:
    """A process, its phases with numbered steps, and the upcoming events that use it;
    `step_events`: by step id, the upcoming sessions linked to that step, in its order."""

    process: GuideProcess
    phases: list[PhaseView]
    events: list[Event]
    step_events: dict[int, list[Event]] = field(default_factory=dict)


async def tip_page(session: AsyncSession, slug: str, now: datetime) -> TipPage:
    """The tip's page at `now`. Raises TipNotFound."""
    tip = await get_tip(session, slug)
    if tip is None:
        raise TipNotFound()
    events = await _upcoming(session, EventMethodLink.tip_id == tip.id, now)
    return TipPage(tip, tip.examples, events)


async def process_page(session: AsyncSession, slug: str, now: datetime) -> ProcessPage:
    """The process' page at `now`. Raises ProcessNotFound."""
    process = await get_process(session, slug)
    if process is None:
        raise ProcessNotFound()
    events = await _upcoming(session, EventMethodLink.process_id == process.id, now)
    phases = numbered_phases(process)
    steps = [numbered.step for phase in phases for numbered in phase.steps]
    return ProcessPage(process, phases, events, await step_sessions(session, steps, now))


async def step_sessions(
    session: AsyncSession, steps: list[ProcessStep], now: datetime
) -> dict[int, list[Event]]:
    """By step id, the sessions linked to each step (`event_links` loaded) that a reader may
    book or go to at `now`: published (never a draft, not cancelled) and not ended, in the
    step's order. The same rule as a tip's or a process' own upcoming events."""
    ids = sorted({event_id for step in steps for event_id in step.event_ids})
    shown = {e.id: e for e in await _shown(session, ids, now)}
    return {step.id: [shown[i] for i in step.event_ids if i in shown] for step in steps}


async def _upcoming(
    session: AsyncSession, linked: ColumnElement[bool], now: datetime
) -> list[Event]:
    event_ids = (await session.scalars(select(EventMethodLink.event_id).where(linked))).all()
    return await _shown(session, list(event_ids), now)


async def _shown(session: AsyncSession, event_ids: list[int], now: datetime) -> list[Event]:
    # What a reader sees of linked events: the published ones (never a draft nor a
    # cancelled one) that have not ended at `now`, soonest first.
    return [e for e in await published_events(session, event_ids) if e.ends_at > now]


async def link_step_session(
    session: AsyncSession, *, process_slug: str, step_number: int, event_id: int
) -> None:
    """Link a session to step `step_number` (1, 2, … across the phases) of a process, after
    those already linked (once: a second time changes nothing); saved by guide.editing's
    rules. Raises ProcessNotFound, or InvalidProcess for no such step or no such event."""
    process = await get_process(session, process_slug)
    if process is None:
        raise ProcessNotFound()
    data = process_input(process)
    phases, number = [], 0
    for phase in data.phases:
        steps = []
        for step in phase.steps:
            number += 1
            if number == step_number and event_id not in (step.events or []):
                step = replace(step, events=[*(step.events or []), event_id])
            steps.append(step)
        phases.append(replace(phase, steps=steps))
    if not 1 <= step_number <= number:
        raise InvalidProcess({"phases": MSG_NO_SUCH_STEP})
    await save_process(session, replace(data, phases=phases))


# --- events that work with a tip or a process -------------------------------------------------


@dataclass(frozen=True)
class LinkedMethod:
    """A tip or a process an event works with (exactly one is set), and why."""

    tip: GuideTip | None
    process: GuideProcess | None
    note: str

    @property
    def slug(self) -> str:
        item = self.tip or self.process
        assert item is not None
        return item.slug

    @property
    def title(self) -> str:
        """ "2. Hitta gemensamma mål och resurser" for a tip, the title for a process."""
        if self.tip is not None:
            return f"{self.tip.number}. {self.tip.title}"
        assert self.process is not None
        return self.process.title


async def methods_for_event(session: AsyncSession, event_id: int) -> list[LinkedMethod]:
    """The tips and processes an event works with, in the organiser's order."""
    links = (
        await session.scalars(
            select(EventMethodLink)
            .options(selectinload(EventMethodLink.tip), selectinload(EventMethodLink.process))
            .where(EventMethodLink.event_id == event_id)
            .order_by(EventMethodLink.position, EventMethodLink.id)
        )
    ).all()
    return [LinkedMethod(link.tip, link.process, link.note) for link in links]


async def link_method(
    session: AsyncSession,
    *,
    event_id: int,
    tip_slug: str | None = None,
    process_slug: str | None = None,
    note: str = "",
) -> EventMethodLink:
    """Link a tip or a process (give one slug) to an event, after those already linked.
    Raises TipNotFound or ProcessNotFound, or InvalidTip when the note is too long (one line,
    at most MAX_NOTE characters) or the method is already linked."""
    assert (tip_slug is None) != (process_slug is None), "link one tip or one process"
    tip = process = None
    if tip_slug is not None:
        tip = await get_tip(session, tip_slug)
        if tip is None:
            raise TipNotFound()
    else:
        process = await get_process(session, process_slug or "")
        if process is None:
            raise ProcessNotFound()
    try:
        note = clean_line(note, max_length=MAX_NOTE)
    except TextRefused as exc:
        raise InvalidTip(
            {"note": MSG_NOTE_TOO_LONG if exc.msgid == MSG_TOO_LONG else exc.msgid}
        ) from None
    links = await _method_links(session, event_id)
    if any(
        (tip is not None and link.tip_id == tip.id)
        or (process is not None and link.process_id == process.id)
        for link in links
    ):
        raise InvalidTip({"method": MSG_METHOD_LINKED})
    link = EventMethodLink(
        event_id=event_id,
        tip_id=tip.id if tip else None,
        process_id=process.id if process else None,
        position=max((link.position for link in links), default=-1) + 1,
        note=note,
    )
    session.add(link)
    await session.flush()
    return link


async def unlink_method(
    session: AsyncSession,
    *,
    event_id: int,
    tip_id: int | None = None,
    process_id: int | None = None,
) -> bool:
    """Remove a tip or a process from an event's list; False when it was not linked."""
    for link in await _method_links(session, event_id):
        if (tip_id is not None and link.tip_id == tip_id) or (
            process_id is not None and link.process_id == process_id
        ):
            await session.delete(link)
            await session.flush()
            return True
    return False


async def copy_method_links(session: AsyncSession, *, from_event_id: int, to_event_id: int) -> int:
    """Give `to_event_id` the tips and processes `from_event_id` links; how many."""
    links = await _method_links(session, from_event_id)
    for link in links:
        session.add(
            EventMethodLink(
                event_id=to_event_id,
                tip_id=link.tip_id,
                process_id=link.process_id,
                position=link.position,
                note=link.note,
            )
        )
    await session.flush()
    return len(links)


async def _method_links(session: AsyncSession, event_id: int) -> list[EventMethodLink]:
    return list(
        (
            await session.scalars(
                select(EventMethodLink)
                .where(EventMethodLink.event_id == event_id)
                .order_by(EventMethodLink.position, EventMethodLink.id)
            )
        ).all()
    )
