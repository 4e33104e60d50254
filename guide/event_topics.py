"""What an event is about in the guide's terms: its challenges, and the examples that fit it.

An event has no challenge field of its own: its challenges are those of the examples, tips
and processes it links (guide.catalogue, guide.methods), so linking the material files the
event, and an organiser never keeps two lists in step. The suggestions an organiser sees
beside an event's examples come from a small scorer over words and challenges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from guide.models import (
    Challenge,
    EventGuideLink,
    EventMethodLink,
    GuideExample,
    example_challenges,
    process_challenges,
    tip_challenges,
)

# Words this short or this common say nothing about what a text is about.
MIN_WORD = 4
STOP_WORDS = frozenset(
    {
        "från",
        "till",
        "eller",
        "inte",
        "efter",
        "under",
        "över",
        "mellan",
        "sina",
        "deras",
        "detta",
        "denna",
        "dessa",
        "vill",
        "ska",
        "också",
        "även",
        "där",
        "här",
        "själv",
        "alla",
        "andra",
        "annan",
        "annat",
        "varje",
        "några",
        "någon",
        "något",
        "mycket",
        "digitalt",
        "lunchkafé",
        "lunchkaféer",
        "workshop",
        "workshopp",
        "workshoppen",
        "timme",
        "länken",
        "mötet",
    }
)
# Swedish words differ in their endings (strukturbild, strukturbilden, strukturbilder):
# comparing the first letters is a stemmer good enough for ranking a handful of examples.
STEM = 6
# A shared challenge says more than a shared word.
CHALLENGE_WEIGHT = 3


# Each way an event is filed under a challenge: the event's link, the linked material's
# challenge table, and the two columns that join them.
def _through() -> tuple[tuple[Any, Any, Any, Any], ...]:
    return (
        (EventGuideLink.event_id, example_challenges, EventGuideLink.example_id,
         example_challenges.c.example_id),
        (EventMethodLink.event_id, tip_challenges, EventMethodLink.tip_id,
         tip_challenges.c.tip_id),
        (EventMethodLink.event_id, process_challenges, EventMethodLink.process_id,
         process_challenges.c.process_id),
    )  # fmt: skip


async def challenges_for_events(
    session: AsyncSession, event_ids: Iterable[int]
) -> dict[int, list[Challenge]]:
    """Each event's challenges (id → challenges in the guide's order, [] for none): those of
    the examples, tips and processes it links. Three queries whatever the number of events."""
    ids = sorted(set(event_ids))
    found: dict[int, dict[int, Challenge]] = {event_id: {} for event_id in ids}
    for event_id, table, linked, filed in _through():
        rows = await session.execute(
            select(event_id, Challenge)
            .join(table, filed == linked)
            .join(Challenge, Challenge.id == table.c.challenge_id)
            .where(event_id.in_(ids))
        )
        for number, challenge in rows.all():
            found[number][challenge.id] = challenge
    return {
        number: sorted(chosen.values(), key=lambda c: (c.position, c.name))
        for number, chosen in found.items()
    }


def filed_under(challenge_id: int) -> Select[int]:
    """The ids of the events filed under a challenge (challenges_for_events' rule), as a
    subquery for a listing to select from."""
    events = union(
        *(
            select(event_id.label("event_id"))
            .join(table, filed == linked)
            .where(table.c.challenge_id == challenge_id)
            for event_id, table, linked, filed in _through()
        )
    ).subquery()
    return select(events.c.event_id)


async def challenges_among(session: AsyncSession, event_ids: Select[int]) -> list[Challenge]:
    """The challenges any of the events `event_ids` (a subquery) is filed under, in the
    guide's order: what a listing of those events can be filtered by. One query."""
    found = union(
        *(
            select(table.c.challenge_id.label("challenge_id")).where(
                filed == linked, event_id.in_(event_ids)
            )
            for event_id, table, linked, filed in _through()
        )
    ).subquery()
    return list(
        (
            await session.scalars(
                select(Challenge)
                .where(Challenge.id.in_(select(found.c.challenge_id)))
                .order_by(Challenge.position, Challenge.name)
            )
        ).all()
    )


def stems(text: str) -> set[str]:
    """The words of `text` that say what it is about, each cut to its first STEM letters."""
    words = re.findall(r"\w+", text.lower())
    return {w[:STEM] for w in words if len(w) >= MIN_WORD and w not in STOP_WORDS}


@dataclass(frozen=True)
class Suggestion:
    """An example that may fit an event, and what it shares with it (for the organiser)."""

    example: GuideExample
    score: int
    challenges: list[Challenge]


async def suggest_examples(
    session: AsyncSession,
    *,
    event_id: int,
    text: str,
    limit: int = 3,
) -> list[Suggestion]:
    """Up to `limit` examples the event does not link yet that may fit it, best first: each
    scores one point per word stem its title, organisation and summary share with `text`
    (the event's title, summary and description) and CHALLENGE_WEIGHT per challenge it shares
    with the event's own (challenges_for_events). Examples that share nothing are left out."""
    event_challenges = {c.id for c in (await challenges_for_events(session, [event_id]))[event_id]}
    linked = set(
        (
            await session.scalars(
                select(EventGuideLink.example_id).where(EventGuideLink.event_id == event_id)
            )
        ).all()
    )
    wanted = stems(text)
    scored: list[Suggestion] = []
    every = await session.scalars(
        select(GuideExample).options(selectinload(GuideExample.challenges))
    )
    for example in every.all():
        if example.id in linked:
            continue
        shared = [c for c in example.challenges if c.id in event_challenges]
        words = stems(f"{example.title} {example.organisation} {example.summary}")
        score = len(words & wanted) + CHALLENGE_WEIGHT * len(shared)
        if score > 0:
            scored.append(Suggestion(example, score, shared))
    scored.sort(key=lambda s: (-s.score, s.example.title))
    return scored[:limit]
