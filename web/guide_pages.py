"""Guide pages: examples filterable by challenge, and one example with its events."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.rendering import render
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from guide import catalogue


async def guide_index(request: Request) -> Response:
    chosen = request.query_params.get("challenge") or None
    async with services(request).transaction() as session:
        all_challenges = await catalogue.challenges(session)
        if chosen and chosen not in {c.slug for c in all_challenges}:
            chosen = None
        found = await catalogue.examples(session, chosen)
    return render(
        request,
        "guide/index.html",
        {"challenges": all_challenges, "chosen": chosen, "examples": found},
    )


async def guide_example(request: Request) -> Response:
    async with services(request).transaction() as session:
        found = await catalogue.example_with_events(session, request.path_params["slug"], utcnow())
    return render(request, "guide/example.html", {"example": found.example, "events": found.events})


routes = [
    Route(ROUTES["guide"], guide_index, name="guide"),
    Route(ROUTES["guide_example"], guide_example, name="guide_example"),
]
