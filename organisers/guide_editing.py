"""An organiser editing the guide in the workspace: an example, tip, process or challenge
read for its form, saved (created or changed) and deleted, each save and deletion logged in
the audit log ("guide.example.saved", "guide.tip.deleted", … on "example:{slug}"). The rules
are guide.editing's; the who and when is kept here. Any signed-in organiser may edit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events import schedule
from events.models import Event
from foundation.errors import N_
from guide import catalogue, editing, methods
from guide.errors import InvalidChallenge, InvalidExample, InvalidProcess, InvalidTip
from guide.models import Challenge, GuideExample, GuideProcess, GuideTip
from organisers import audit
from organisers.models import Organiser

Kind = Literal["example", "tip", "process", "challenge"]
Item = editing.ExampleInput | editing.TipInput | editing.ProcessInput | editing.ChallengeInput
KINDS: tuple[Kind, ...] = ("example", "tip", "process", "challenge")
MSG_SLUG_TAKEN = N_("Adressen används redan. Välj en annan.")

_ROWS: dict[Kind, type[GuideExample] | type[GuideTip] | type[GuideProcess] | type[Challenge]] = {
    "example": GuideExample,
    "tip": GuideTip,
    "process": GuideProcess,
    "challenge": Challenge,
}
_DELETE: dict[Kind, Callable[[AsyncSession, str], Awaitable[bool]]] = {
    "example": editing.delete_example,
    "tip": editing.delete_tip,
    "process": editing.delete_process,
    "challenge": editing.delete_challenge,
}


def kind_of(item: Item) -> Kind:
    if isinstance(item, editing.ExampleInput):
        return "example"
    if isinstance(item, editing.TipInput):
        return "tip"
    if isinstance(item, editing.ProcessInput):
        return "process"
    return "challenge"


async def current_input(session: AsyncSession, kind: Kind, slug: str) -> Item | None:
    """The stored `kind` that `slug` names as its input (its current values), or None."""
    if kind == "example":
        example = await catalogue.get_example(session, slug)
        return editing.example_input(example) if example else None
    if kind == "tip":
        tip = await methods.get_tip(session, slug)
        return editing.tip_input(tip) if tip else None
    if kind == "process":
        process = await methods.get_process(session, slug)
        return editing.process_input(process) if process else None
    challenge = await catalogue.get_challenge(session, slug)
    return editing.challenge_input(challenge) if challenge else None


async def save_item(
    session: AsyncSession, organiser: Organiser, data: Item, *, new: bool, now: datetime
) -> None:
    """Save `data` through guide.editing (InvalidExample, InvalidTip, InvalidProcess or
    InvalidChallenge with every bad field) and log "guide.{kind}.saved". `new`: the form
    creates an item, so a slug already in use is refused (field "slug", MSG_SLUG_TAKEN)
    rather than overwriting what it names."""
    kind = kind_of(data)
    if new:
        row = _ROWS[kind]
        taken = await session.scalar(select(row.id).where(row.slug == data.slug))
        if taken is not None:
            raise _invalid(kind, {"slug": MSG_SLUG_TAKEN})
    if isinstance(data, editing.ExampleInput):
        await editing.save_example(session, data)
    elif isinstance(data, editing.TipInput):
        await editing.save_tip(session, data)
    elif isinstance(data, editing.ProcessInput):
        await editing.save_process(session, data)
    else:
        await editing.save_challenge(session, data)
    action = "created" if new else "saved"
    await audit.record(session, organiser, f"guide.{kind}.{action}", f"{kind}:{data.slug}", now=now)


async def delete_item(
    session: AsyncSession, organiser: Organiser, kind: Kind, slug: str, *, now: datetime
) -> bool:
    """Delete the `kind` that `slug` names (guide.editing.delete_*), logged as
    "guide.{kind}.deleted"; False, and nothing logged, when there is none."""
    removed = await _DELETE[kind](session, slug)
    if removed:
        await audit.record(session, organiser, f"guide.{kind}.deleted", f"{kind}:{slug}", now=now)
    return removed


def _invalid(
    kind: Kind, fields: dict[str, str]
) -> InvalidExample | InvalidTip | InvalidProcess | InvalidChallenge:
    if kind == "example":
        return InvalidExample(fields)
    if kind == "tip":
        return InvalidTip(fields)
    if kind == "process":
        return InvalidProcess(fields)
    return InvalidChallenge(fields)


@dataclass(frozen=True)
class Editor:
    """What an edit page shows: the item's current values (None: a new one, or no such
    item), every challenge to choose among, every example's slug and title (to link), and
    for a process the sessions its steps may link ("Tillfällen:", guide.outline): those not
    over nor cancelled, drafts included, soonest first."""

    item: Item | None
    challenges: list[Challenge]
    examples: list[GuideExample]
    events: list[Event] = field(default_factory=list)


async def editor(session: AsyncSession, kind: Kind, slug: str | None, now: datetime) -> Editor:
    """The edit page of the `kind` that `slug` names (None: the page for a new one) at `now`."""
    item = await current_input(session, kind, slug) if slug is not None else None
    events = await schedule.linkable_sessions(session, now) if kind == "process" else []
    return Editor(
        item=item,
        challenges=await catalogue.challenges(session),
        examples=await catalogue.examples(session),
        events=events,
    )


@dataclass(frozen=True)
class Overview:
    """The guide's material as the editor's front page lists it, each kind in its order."""

    examples: list[GuideExample]
    tips: list[GuideTip]
    processes: list[GuideProcess]
    challenges: list[Challenge]


async def overview(session: AsyncSession) -> Overview:
    return Overview(
        examples=await catalogue.examples(session),
        tips=await methods.tips(session),
        processes=await methods.processes(session),
        challenges=await catalogue.challenges(session),
    )
