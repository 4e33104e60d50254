"""Guide pages: the catalogue filterable by challenge; one example, tip, process or challenge,
each with the upcoming sessions that discuss it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlencode

from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.i18n import format_day
from foundation.page_memo import wants_fresh
from foundation.rendering import language_of, render
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from guide import catalogue, finding, methods
from guide.models import OrganisationType
from registrations.overviews import process_overview


async def guide_index(request: Request) -> Response:
    # Shared for a moment per process, as the event pages are (foundation.page_memo).
    challenge = request.query_params.get("challenge") or None
    if request.query_params.get("q", "").strip():
        return await _search(request, challenge)
    found = await services(request).page(
        f"guide:{challenge or ''}",
        lambda session: catalogue.browse(session, challenge),
        fresh=wants_fresh(request),
    )
    return render(
        request,
        "guide/index.html",
        {
            "challenges": found.challenges,
            "chosen": found.chosen,
            "examples": found.examples,
            "counts": found.counts,
            "tips": found.tips,
            "processes": found.processes,
        },
    )


async def _search(request: Request, challenge: str | None) -> Response:
    """/guide?q=…: Swedish search (guide.finding) with its filters and sort."""
    params = {k: v[:200] for k, v in request.query_params.items()}
    sort: Literal["relevance", "date"] = "date" if params.get("sort") == "date" else "relevance"
    async with services(request).reading() as session:
        found = await finding.search_page(
            session,
            params["q"],
            challenge=challenge,
            organisation_type=params.get("organisation_type") or None,
            region=params.get("region") or None,
            sort=sort,
            page=int(params["sida"]) if params.get("sida", "").isdecimal() else 1,
        )
    return render(
        request,
        "guide/search.html",
        {
            "q": params["q"],
            "hits": found.hits,
            "found": found,
            "page_query": {
                n: urlencode({**params, "sida": str(n)}) for n in (found.page - 1, found.page + 1)
            },
            "searchable": found.searchable,
            "challenges": found.challenges,
            "chosen": challenge,
            "organisation_types": list(OrganisationType),
            "params": params,
        },
    )


async def guide_example(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    found = await services(request).page(
        f"guide_example:{slug}",
        lambda session: catalogue.example_with_events(session, slug, utcnow()),
        fresh=wants_fresh(request),
    )
    return render(
        request,
        "guide/example.html",
        {"example": found.example, "events": found.events, **_formats(request)},
    )


async def guide_tip(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    found = await services(request).page(
        f"guide_tip:{slug}",
        lambda session: methods.tip_page(session, slug, utcnow()),
        fresh=wants_fresh(request),
    )
    return render(
        request,
        "guide/tip.html",
        {"page": found, "events": found.events, **_formats(request)},
    )


async def guide_process(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    found = await services(request).page(
        f"guide_process:{slug}",
        lambda session: process_overview(
            session, slug, utcnow(), tz_name=services(request).settings.timezone
        ),
        fresh=wants_fresh(request),
    )
    return render(
        request,
        "guide/process.html",
        {
            "page": found.page,
            "events": found.page.events,
            "sessions_by_step": found.step_sessions,
            "closed_sessions": found.closed,
            **_formats(request),
        },
    )


async def guide_challenge(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    found = await services(request).page(
        f"guide_challenge:{slug}",
        lambda session: catalogue.challenge_page(session, slug, utcnow()),
        fresh=wants_fresh(request),
    )
    return render(request, "guide/challenge.html", {"page": found, "events": found.events})


def _formats(request: Request) -> dict[str, Callable[[Any], str]]:
    """A calendar date (published, updated) and a count as the visitor reads them:
    "1 september 2026" and "300 000" in Swedish, "1 September 2026" and "300,000" in
    English (foundation.i18n.format_day, CLDR through Babel)."""
    language = language_of(request)
    return {
        "on_day": lambda day: format_day(day, language),
        "amount": lambda number: format_decimal(number, locale=language),
    }


routes = [
    Route(ROUTES["guide"], guide_index, name="guide"),
    # Linked only from pages (url_for), so not in foundation.site_paths' table for mails.
    Route("/guide/tips/{slug:slug}", guide_tip, name="guide_tip"),
    Route("/guide/processes/{slug:slug}", guide_process, name="guide_process"),
    Route("/guide/challenges/{slug:slug}", guide_challenge, name="guide_challenge"),
    Route(ROUTES["guide_example"], guide_example, name="guide_example"),
]
