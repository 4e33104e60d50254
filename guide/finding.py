"""Searching the guide: a query in Swedish, filters, a sort, hits with highlighted snippets
(guide.search holds the index and the stemming)."""

from __future__ import annotations

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


async def find(
    session: AsyncSession,
    query: str,
    *,
    challenge: str | None = None,
    organisation_type: str | None = None,
    region: str | None = None,
    kinds: tuple[str, ...] = search.KINDS,
    sort: Sort = "relevance",
) -> list[Hit]:
    """The examples, tips and processes matching `query` (guide.search_query: Swedish stems,
    each word a prefix, "phrases", OR, -word), under `challenge` (a slug) when given;
    `organisation_type` and `region` (exact, case-insensitive) keep examples only. Sorted by
    relevance (then title) or by date, newest first. A query with nothing to search for
    (no word, or stop words only) finds nothing; never raises for any text."""
    connection = await session.connection()
    parsed = await connection.run_sync(lambda c: search.query_of(c, query))
    terms = parsed.terms
    if not terms:
        return []
    found = await connection.run_sync(lambda c: search.matching(c, parsed))
    wanted = {kind: [i for k, i in found if k == kind] for kind in kinds}
    if organisation_type or region:
        wanted = {"example": wanted.get("example", [])}
    models: dict[str, type[GuideExample] | type[GuideTip] | type[GuideProcess]] = {
        "example": GuideExample,
        "tip": GuideTip,
        "process": GuideProcess,
    }
    hits: list[Hit] = []
    for kind, ids in wanted.items():
        if not ids:
            continue
        model = models[kind]
        statement = select(model).options(selectinload(model.challenges)).where(model.id.in_(ids))
        if challenge:
            statement = statement.where(model.challenges.any(Challenge.slug == challenge))
        if kind == "example" and organisation_type:
            statement = statement.where(GuideExample.organisation_type == organisation_type)
        rows: list[GuideExample | GuideTip | GuideProcess] = list(
            (await session.scalars(statement)).all()  # type: ignore[arg-type]
        )
        row_ids = [row.id for row in rows]

        def read(sync: Any, kind: str = kind, row_ids: list[int] = row_ids) -> dict[int, Any]:
            return {d.item_id: d for d in search.documents(sync, kind, row_ids)}

        documents = await connection.run_sync(read)
        for row in rows:
            if (
                region
                and isinstance(row, GuideExample)
                and row.region.casefold() != region.strip().casefold()
            ):
                continue
            doc = documents.get(row.id)
            if doc is None:
                continue
            body = row.summary if isinstance(row, (GuideExample, GuideProcess)) else row.text
            shown = body if any(search.matches(w, terms) for w in body.split()) else doc.body
            hits.append(
                Hit(
                    kind=kind,
                    item=row,
                    score=search.score(terms, doc.title, doc.body),
                    snippet=search.snippet(terms, shown),
                    updated_on=row.updated_on,
                )
            )
    if sort == "date":
        hits.sort(key=lambda h: (h.updated_on, h.item.title), reverse=True)
    else:
        hits.sort(key=lambda h: (-h.score, h.item.title))
    return hits


@dataclass(frozen=True)
class SearchPage:
    """What /guide?q=… shows: the hits, every challenge (the filter's choices, and the
    pages suggested when nothing is found), and whether the query had anything to search
    for (not stop words such as "och" alone)."""

    hits: list[Hit]
    challenges: list[Challenge]
    searchable: bool = True


async def search_page(
    session: AsyncSession,
    query: str,
    *,
    challenge: str | None = None,
    organisation_type: str | None = None,
    region: str | None = None,
    sort: Sort = "relevance",
) -> SearchPage:
    """`find` with the challenges beside it (guide.catalogue.challenges' order)."""
    from guide.catalogue import challenges

    hits = await find(
        session,
        query,
        challenge=challenge,
        organisation_type=organisation_type,
        region=region,
        sort=sort,
    )
    return SearchPage(hits, await challenges(session), bool(parse(query).terms))
