"""Guide pages: examples filterable by challenge, and one example with its events."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.rendering import render
from foundation.services import services
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
        example = await catalogue.get_example(session, request.path_params["slug"])
        if example is None:
            raise HTTPException(404, "Exemplet finns inte.")
        events = await catalogue.events_for_example(session, example.id, utcnow())
    return render(request, "guide/example.html", {"example": example, "events": events})


routes = [
    Route("/guide", guide_index, name="guide"),
    Route("/guide/{slug}", guide_example, name="guide_example"),
]
