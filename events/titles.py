"""Events and series named by id, for another package that speaks of them (the audit log):
an event's title and start, a series' title. One query per kind for any number of ids, so a
page that names many never asks once per row."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event, Series
from foundation.ids import is_id


@dataclass(frozen=True)
class EventTitle:
    """How an event is named: its `title` and when it `starts_at` (aware, UTC)."""

    title: str
    starts_at: datetime


async def event_titles(session: AsyncSession, ids: Collection[int]) -> dict[int, EventTitle]:
    """Each event among `ids` that exists (any state, drafts included) by its id; an id
    with no event (deleted, or none a row can have) is left out. One query, none for no ids."""
    wanted = sorted(i for i in set(ids) if is_id(i))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Event.id, Event.title, Event.starts_at).where(Event.id.in_(wanted))
    )
    return {row.id: EventTitle(row.title, row.starts_at) for row in rows}


async def series_titles(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Each series among `ids` that exists, its title by its id. One query, none for no ids."""
    wanted = sorted(i for i in set(ids) if is_id(i))
    if not wanted:
        return {}
    rows = await session.execute(select(Series.id, Series.title).where(Series.id.in_(wanted)))
    return {row.id: row.title for row in rows}
