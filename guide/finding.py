"""Searching the guide: a query in Swedish, filters, a sort, hits with highlighted snippets
(guide.search holds the index and the stemming)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from guide import search
from guide.models import Challenge, GuideExample, GuideProcess, GuideTip
from guide.search_query import parse
from guide.snippets import Shown, shown_all

Sort = Literal["relevance", "date"]


@dataclass(frozen=True)
class Hit:
    """One item found: its kind ("example", "tip", "process"), the row (its challenges
    loaded), the relevance, the snippet (escaped HTML, hits in <mark>) and its date."""

    kind: str
    item: GuideExample | GuideTip | GuideProcess
    score: int
    snippet: Markup
    updated_on: date
    challenges: tuple[str, ...] = ()  # those alone it matched by (guide.snippets), no snippet


@dataclass(frozen=True)
class _Ranked:
    """What ranks a found item, read without its text."""

    kind: str
    item_id: int
    score: int
    title: str
    updated_on: date


_MODELS: dict[str, type[GuideExample] | type[GuideTip] | type[GuideProcess]] = {
    "example": GuideExample,
    "tip": GuideTip,
    "process": GuideProcess,
}


async def find(
    session: AsyncSession,
    query: str,
    *,
    challenge: str | None = None,
    organisation_type: str | None = None,
    region: str | None = None,
    kinds: tuple[str, ...] = search.KINDS,
    sort: Sort = "relevance",
    offset: int = 0,
    limit: int | None = None,
    snippets: bool = True,
) -> list[Hit]:
    """The examples, tips and processes matching `query` (guide.search_query: Swedish stems,
    each word a prefix, "phrases", OR, -word), under `challenge` (a slug) when given;
    `organisation_type` and `region` (exact, case-insensitive) keep examples only. Sorted by
    relevance (then title) or by date, newest first; from `offset`, at most `limit` of them
    (all when None: only those are read and given a snippet, an empty one without
    `snippets`). A query with nothing to search for (no word, or stop words only) finds
    nothing; never raises for any text."""
    terms, ranked = await _ranked(session, query, challenge, organisation_type, region, kinds, sort)
    chosen = ranked[offset:] if limit is None else ranked[offset : offset + limit]
    return await _hits(session, terms, chosen, snippets=snippets)


async def _ranked(
    session: AsyncSession,
    query: str,
    challenge: str | None,
    organisation_type: str | None,
    region: str | None,
    kinds: tuple[str, ...],
    sort: Sort,
) -> tuple[list[str], list[_Ranked]]:
    """The query's terms and every item found, in order: their titles, dates and scores (from
    the index's text, guide.search.scores), none of their texts."""
    connection = await session.connection()
    parsed = await connection.run_sync(lambda c: search.query_of(c, query))
    terms = parsed.terms
    if not terms:
        return terms, []
    candidates = await connection.run_sync(lambda c: search.candidates(c, parsed))
    found = candidates.found
    if candidates.to_check:  # CPU work (a phrase on SQLite): off the event loop
        found += await asyncio.to_thread(search.holding, parsed, candidates.to_check)
    wanted = {kind: [i for k, i in found if k == kind] for kind in kinds}
    if organisation_type or region:
        wanted = {"example": wanted.get("example", [])}
    ranked: list[_Ranked] = []
    for kind, ids in wanted.items():
        if not ids:
            continue
        model = _MODELS[kind]
        statement = select(model.id, model.title, model.updated_on).where(model.id.in_(ids))
        if kind == "example":
            statement = statement.add_columns(GuideExample.region)
        if challenge:
            statement = statement.where(model.challenges.any(Challenge.slug == challenge))
        if kind == "example" and organisation_type:
            statement = statement.where(GuideExample.organisation_type == organisation_type)
        rows = [
            row
            for row in (await session.execute(statement)).all()
            if not (
                region and kind == "example" and _region_differs(row._mapping["region"], region)
            )
        ]
        ids = [row[0] for row in rows]
        scores = await connection.run_sync(
            lambda c, kind=kind, ids=ids: search.scores(c, terms, kind, ids)  # type: ignore[misc]
        )
        ranked.extend(_Ranked(kind, row[0], scores.get(row[0], 0), row[1], row[2]) for row in rows)
    if sort == "date":
        ranked.sort(key=lambda r: (r.updated_on, r.title), reverse=True)
    else:
        ranked.sort(key=lambda r: (-r.score, r.title))
    return terms, ranked


def _region_differs(value: str, region: str) -> bool:
    return value.casefold() != region.strip().casefold()


async def _hits(
    session: AsyncSession, terms: list[str], chosen: list[_Ranked], *, snippets: bool = True
) -> list[Hit]:
    """The `chosen` items as hits, in their order: their rows and (with `snippets`) a
    snippet of each."""
    connection = await session.connection()
    items: dict[tuple[str, int], GuideExample | GuideTip | GuideProcess] = {}
    texts: dict[tuple[str, int], search.Document] = {}
    for kind, model in _MODELS.items():
        ids = [r.item_id for r in chosen if r.kind == kind]
        if not ids:
            continue
        statement = select(model).options(selectinload(model.challenges)).where(model.id.in_(ids))
        rows: list[GuideExample | GuideTip | GuideProcess] = list(
            (await session.scalars(statement)).all()  # type: ignore[arg-type]
        )
        items.update(((kind, row.id), row) for row in rows)
        if not snippets:
            continue

        def read(sync: Any, kind: str = kind, ids: list[int] = ids) -> list[search.Document]:
            return search.documents(sync, kind, ids)

        texts.update(((kind, d.item_id), d) for d in await connection.run_sync(read))
    shown = await shown_all(session, list(items.values()), terms) if snippets else {}
    hits: list[Hit] = []
    for r in chosen:
        item, doc = items.get((r.kind, r.item_id)), texts.get((r.kind, r.item_id))
        if item is None or (snippets and doc is None):
            continue
        said = shown.get((r.kind, r.item_id), _NOTHING_SHOWN)
        hits.append(
            Hit(
                kind=r.kind,
                item=item,
                score=r.score,
                snippet=said.snippet,
                updated_on=item.updated_on,
                challenges=tuple(said.challenges),
            )
        )
    return hits


_NOTHING_SHOWN = Shown(Markup(""))

PAGE_SIZE = 20  # hits a search page shows (and reads, and gives a snippet)


@dataclass(frozen=True)
class SearchPage:
    """What /guide?q=… shows: one page of hits (`page`, from 1, of `pages`) of `total`,
    every challenge (the filter's choices, and the pages suggested when nothing is found),
    and whether the query had anything to search for (not stop words such as "och" alone)."""

    hits: list[Hit]
    challenges: list[Challenge]
    searchable: bool = True
    total: int = 0
    page: int = 1
    pages: int = 1


async def search_page(
    session: AsyncSession,
    query: str,
    *,
    challenge: str | None = None,
    organisation_type: str | None = None,
    region: str | None = None,
    sort: Sort = "relevance",
    page: int = 1,
) -> SearchPage:
    """Page `page` (the last when beyond it) of `find`'s hits, PAGE_SIZE to a page, with the
    challenges beside it (guide.catalogue.challenges' order): however many items match, only
    the page's are read and given a snippet."""
    from guide.catalogue import challenges

    terms, ranked = await _ranked(
        session, query, challenge, organisation_type, region, search.KINDS, sort
    )
    pages = max(1, -(-len(ranked) // PAGE_SIZE))
    page = min(max(1, page), pages)
    start = (page - 1) * PAGE_SIZE
    hits = await _hits(session, terms, ranked[start : start + PAGE_SIZE])
    return SearchPage(
        hits, await challenges(session), bool(parse(query).terms), len(ranked), page, pages
    )
