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
    async with services(request).transaction() as session:
        found = await catalogue.browse(session, request.query_params.get("challenge") or None)
    return render(
        request,
        "guide/index.html",
        {"challenges": found.challenges, "chosen": found.chosen, "examples": found.examples},
    )


async def guide_example(request: Request) -> Response:
    async with services(request).transaction() as session:
        found = await catalogue.example_with_events(session, request.path_params["slug"], utcnow())
    return render(request, "guide/example.html", {"example": found.example, "events": found.events})


routes = [
    Route(ROUTES["guide"], guide_index, name="guide"),
    Route(ROUTES["guide_example"], guide_example, name="guide_example"),
]
