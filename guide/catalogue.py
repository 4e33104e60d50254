"""The development guide: examples by challenge, the challenges with what is filed under
them, and which events discuss them. Tips and processes are read in guide.methods; saving
any of the material is guide.editing."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.models import Event
from events.rules import MSG_SLUG
from events.schedule import published_events
from foundation.errors import N_
from foundation.ids import is_id
from foundation.slugs import is_slug
from foundation.text import MSG_TOO_LONG, TextRefused, clean_line
from guide import methods
from guide.errors import ChallengeNotFound, ExampleNotFound, InvalidExample
from guide.models import (
    Challenge,
    EventGuideLink,
    EventMethodLink,
    GuideExample,
    GuideProcess,
    GuideTip,
    example_challenges,
    process_challenges,
    tip_challenges,
)

# Why an example matters for an event: a line, shown under the example's title.
MAX_NOTE = 300
MSG_NOTE_TOO_LONG = N_("Högst 300 tecken.")
MSG_ALREADY_LINKED = N_("Exemplet är redan kopplat till evenemanget.")


@dataclass(frozen=True)
class LinkedExample:
    example: GuideExample
    note: str


async def challenges(session: AsyncSession) -> list[Challenge]:
    """Every challenge in the guide's order (position, then name)."""
    return list(
        (
            await session.scalars(select(Challenge).order_by(Challenge.position, Challenge.name))
        ).all()
    )


async def get_challenge(session: AsyncSession, slug: str) -> Challenge | None:
    if not is_slug(slug):
        return None
    return await session.scalar(select(Challenge).where(Challenge.slug == slug))


@dataclass(frozen=True)
class ChallengeCount:
    """A challenge and how many examples, tips and processes are filed under it."""

    challenge: Challenge
    examples: int
    tips: int
    processes: int

    @property
    def total(self) -> int:
        return self.examples + self.tips + self.processes


async def challenge_counts(session: AsyncSession) -> list[ChallengeCount]:
    """Every challenge in order with its counts, for the browse page: four queries
    whatever the number of challenges."""
    every = await challenges(session)
    counted: list[dict[int, int]] = []
    for table, column in (
        (example_challenges, example_challenges.c.challenge_id),
        (tip_challenges, tip_challenges.c.challenge_id),
        (process_challenges, process_challenges.c.challenge_id),
    ):
        rows = await session.execute(
            select(column, func.count()).select_from(table).group_by(column)
        )
        counted.append({challenge_id: n for challenge_id, n in rows.all()})
    return [
        ChallengeCount(c, counted[0].get(c.id, 0), counted[1].get(c.id, 0), counted[2].get(c.id, 0))
        for c in every
    ]


@dataclass(frozen=True)
class ChallengePage:
    """A challenge with its methods (tips by number, processes by title), its examples by
    title, and the upcoming published events that discuss any of them, soonest first; when
    it has none of the first three, the `others` a visitor can go on to (the guide's order)."""

    challenge: Challenge
    tips: list[GuideTip]
    processes: list[GuideProcess]
    examples: list[GuideExample]
    events: list[Event]
    others: list[Challenge] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing is filed under the challenge yet."""
        return not (self.tips or self.processes or self.examples)


async def challenge_page(session: AsyncSession, slug: str, now: datetime) -> ChallengePage:
    """The challenge's page at `now`. Raises ChallengeNotFound."""
    challenge = await get_challenge(session, slug)
    if challenge is None:
        raise ChallengeNotFound()
    found_tips = await methods.tips(session, slug)
    found_processes = await methods.processes(session, slug)
    found_examples = await examples(session, slug)
    example_ids = [e.id for e in found_examples]
    event_ids = set(
        (
            await session.scalars(
                select(EventGuideLink.event_id).where(EventGuideLink.example_id.in_(example_ids))
            )
        ).all()
    )
    event_ids |= set(
        (
            await session.scalars(
                select(EventMethodLink.event_id).where(
                    or_(
                        EventMethodLink.tip_id.in_([t.id for t in found_tips]),
                        EventMethodLink.process_id.in_([p.id for p in found_processes]),
                    )
                )
            )
        ).all()
    )
    events = [e for e in await published_events(session, sorted(event_ids)) if e.ends_at > now]
    page = ChallengePage(challenge, found_tips, found_processes, found_examples, events)
    if page.empty:
        others = [c for c in await challenges(session) if c.id != challenge.id]
        page = ChallengePage(challenge, [], [], [], events, others)
    return page


async def examples(session: AsyncSession, challenge_slug: str | None = None) -> list[GuideExample]:
    """All examples, or those filed under one challenge, by title."""
    query = select(GuideExample).options(selectinload(GuideExample.challenges))
    if challenge_slug:
        query = query.where(GuideExample.challenges.any(Challenge.slug == challenge_slug))
    return list((await session.scalars(query.order_by(GuideExample.title))).all())


@dataclass(frozen=True)
class Browse:
    """The guide's index: every challenge with its counts, the one chosen (None: all), and
    the tips, processes and examples under it."""

    challenges: list[Challenge]
    chosen: str | None
    examples: list[GuideExample]
    counts: list[ChallengeCount] = field(default_factory=list)
    tips: list[GuideTip] = field(default_factory=list)
    processes: list[GuideProcess] = field(default_factory=list)


async def browse(session: AsyncSession, challenge_slug: str | None) -> Browse:
    """The tips (by number), processes and examples (by title) under `challenge_slug`; all
    of them when it is None or names no challenge (a stale or mistyped link shows everything
    rather than nothing)."""
    counts = await challenge_counts(session)
    every = [count.challenge for count in counts]
    chosen = challenge_slug if challenge_slug in {c.slug for c in every} else None
    return Browse(
        every,
        chosen,
        await examples(session, chosen),
        counts,
        await methods.tips(session, chosen),
        await methods.processes(session, chosen),
    )


async def get_example(session: AsyncSession, slug: str) -> GuideExample | None:
    """The example `slug` names, its challenges loaded; None for no such example."""
    if not is_slug(slug):
        return None
    found = await session.scalars(
        select(GuideExample)
        .options(selectinload(GuideExample.challenges))
        .where(GuideExample.slug == slug)
    )
    return found.first()


async def examples_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, GuideExample]:
    """Each example among `ids` that exists, by its id (a deleted one is left out), for a
    page that names many (the audit log). One query, none for no ids."""
    wanted = sorted(i for i in set(ids) if is_id(i))
    if not wanted:
        return {}
    rows = await session.scalars(select(GuideExample).where(GuideExample.id.in_(wanted)))
    return {example.id: example for example in rows.all()}


@dataclass(frozen=True)
class ExampleWithEvents:
    """An example and the upcoming published events that discuss it, soonest first."""

    example: GuideExample
    events: list[Event]


async def example_with_events(session: AsyncSession, slug: str, now: datetime) -> ExampleWithEvents:
    """The example page at `now`. Raises ExampleNotFound."""
    example = await get_example(session, slug)
    if example is None:
        raise ExampleNotFound()
    return ExampleWithEvents(example, await events_for_example(session, example.id, now))


async def examples_for_event(session: AsyncSession, event_id: int) -> list[LinkedExample]:
    """The examples an event discusses, in the organiser's order."""
    links = (
        await session.scalars(
            select(EventGuideLink)
            .options(selectinload(EventGuideLink.example).selectinload(GuideExample.challenges))
            .where(EventGuideLink.event_id == event_id)
            .order_by(EventGuideLink.position, EventGuideLink.id)
        )
    ).all()
    return [LinkedExample(link.example, link.note) for link in links]


async def examples_for_events(
    session: AsyncSession, event_ids: list[int]
) -> dict[int, list[LinkedExample]]:
    found: dict[int, list[LinkedExample]] = {event_id: [] for event_id in event_ids}
    if not event_ids:
        return found
    links = (
        await session.scalars(
            select(EventGuideLink)
            .options(selectinload(EventGuideLink.example))
            .where(EventGuideLink.event_id.in_(event_ids))
            .order_by(EventGuideLink.event_id, EventGuideLink.position, EventGuideLink.id)
        )
    ).all()
    for link in links:
        found[link.event_id].append(LinkedExample(link.example, link.note))
    return found


async def events_for_example(session: AsyncSession, example_id: int, now: datetime) -> list[Event]:
    """Upcoming published events that discuss an example."""
    event_ids = (
        await session.scalars(
            select(EventGuideLink.event_id).where(EventGuideLink.example_id == example_id)
        )
    ).all()
    return [e for e in await published_events(session, list(event_ids)) if e.ends_at > now]


async def link_example(
    session: AsyncSession, *, event_id: int, example_slug: str, note: str = ""
) -> EventGuideLink:
    """Link an example to an event, after the ones already linked, with a short note on why
    it matters (one line, at most MAX_NOTE characters). Raises ExampleNotFound, or
    InvalidExample when the note is too long or the example is already linked."""
    example = await get_example(session, example_slug) if is_slug(example_slug) else None
    if example is None:
        raise ExampleNotFound()
    try:
        note = clean_line(note, max_length=MAX_NOTE)
    except TextRefused as exc:
        raise InvalidExample(
            {"note": MSG_NOTE_TOO_LONG if exc.msgid == MSG_TOO_LONG else exc.msgid}
        ) from None
    links = await _links(session, event_id)
    if any(link.example_id == example.id for link in links):
        raise InvalidExample({"example": MSG_ALREADY_LINKED})
    position = max((link.position for link in links), default=-1) + 1
    link = EventGuideLink(event_id=event_id, example_id=example.id, position=position, note=note)
    session.add(link)
    await session.flush()
    return link


async def _links(session: AsyncSession, event_id: int) -> list[EventGuideLink]:
    return list(
        (
            await session.scalars(
                select(EventGuideLink)
                .where(EventGuideLink.event_id == event_id)
                .order_by(EventGuideLink.position, EventGuideLink.id)
            )
        ).all()
    )


async def move_example(session: AsyncSession, *, event_id: int, example_id: int, by: int) -> bool:
    """Move a linked example `by` places (-1: up, 1: down) in the event's order; the order
    is renumbered 0, 1, 2, … False when the example is not linked or cannot move further."""
    links = await _links(session, event_id)
    at = next((i for i, link in enumerate(links) if link.example_id == example_id), None)
    if at is None or not 0 <= at + by < len(links):
        return False
    links.insert(at + by, links.pop(at))
    for position, link in enumerate(links):
        link.position = position
    await session.flush()
    return True


async def unlink_example(session: AsyncSession, *, event_id: int, example_id: int) -> bool:
    """Remove an example from an event's list; the others keep their order. False when it
    was not linked."""
    links = await _links(session, event_id)
    found = next((link for link in links if link.example_id == example_id), None)
    if found is None:
        return False
    await session.delete(found)
    await session.flush()
    return True


async def copy_links(session: AsyncSession, *, from_event_id: int, to_event_id: int) -> int:
    """Give `to_event_id` the examples `from_event_id` links, same order and notes, and the
    tips and processes it links (guide.methods); how many examples."""
    links = await _links(session, from_event_id)
    for link in links:
        session.add(
            EventGuideLink(
                event_id=to_event_id,
                example_id=link.example_id,
                position=link.position,
                note=link.note,
            )
        )
    await methods.copy_method_links(session, from_event_id=from_event_id, to_event_id=to_event_id)
    await session.flush()
    return len(links)


async def add_example(
    session: AsyncSession,
    *,
    slug: str,
    title: str,
    organisation: str,
    summary: str,
    body: str = "",
    source_url: str | None = None,
    contact_name: str = "",
    contact_email: str = "",
    challenge_slugs: list[str] | None = None,
) -> GuideExample:
    """Add an example to the guide. Raises InvalidExample when `slug` is no slug (the name
    in its URL, foundation.slugs)."""
    if not is_slug(slug):
        raise InvalidExample({"slug": MSG_SLUG})
    found = (
        await session.scalars(select(Challenge).where(Challenge.slug.in_(challenge_slugs or [])))
    ).all()
    example = GuideExample(
        slug=slug,
        title=title,
        organisation=organisation,
        summary=summary,
        body=body,
        source_url=source_url,
        contact_name=contact_name,
        contact_email=contact_email,
        challenges=list(found),
    )
    session.add(example)
    await session.flush()
    return example


async def add_challenge(
    session: AsyncSession, *, slug: str, name: str, description: str = ""
) -> Challenge:
    challenge = Challenge(slug=slug, name=name, description=description)
    session.add(challenge)
    await session.flush()
    return challenge
