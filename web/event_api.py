"""JSON for integrations: an agency website embedding the list of events."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from foundation import ids  # noqa: F401  (registers {name:id} before the routes compile)
from foundation.problems import problem
from foundation.services import services
from foundation.timestamps import utcnow
from guide.catalogue import LinkedExample, examples_for_event, examples_for_events
from registrations import listing


def event_json(
    request: Request, item: listing.EventListing, examples: list[LinkedExample]
) -> dict[str, Any]:
    """The public shape of an event; never the join link."""
    event = item.event
    tz = services(request).settings.tz
    return {
        "id": event.id,
        "uid": event.uid,
        "kind": event.kind.value,
        "title": event.title,
        "summary": event.summary,
        "series": (
            {
                "slug": event.series.slug,
                "title": event.series.title,
                "url": str(request.url_for("series", slug=event.series.slug)),
            }
            if event.series is not None
            else None
        ),
        "starts_at": event.starts_at.astimezone(tz).isoformat(),
        "ends_at": event.ends_at.astimezone(tz).isoformat(),
        "online": bool(event.join_url),
        "venue": event.venue,
        "capacity": event.capacity,
        "seats_left": item.seats_left,
        "waitlist_length": item.waitlisted,
        "status": event.status.value,
        "url": str(request.url_for("event", event_id=event.id)),
        "guide_examples": [
            {
                "slug": linked.example.slug,
                "title": linked.example.title,
                "organisation": linked.example.organisation,
                "note": linked.note,
                "url": str(request.url_for("guide_example", slug=linked.example.slug)),
            }
            for linked in examples
        ],
    }


async def list_events(request: Request) -> Response:
    async with services(request).transaction() as session:
        items = await listing.upcoming(session, utcnow())
        linked = await examples_for_events(session, [i.event.id for i in items])
    return JSONResponse({"events": [event_json(request, i, linked[i.event.id]) for i in items]})


async def get_event(request: Request) -> Response:
    event_id: int = request.path_params["event_id"]
    async with services(request).transaction() as session:
        item = await listing.get_public_event(session, event_id)
        if item is None:
            return problem(404, "not_found", "Evenemanget finns inte.")
        examples = await examples_for_event(session, event_id)
    return JSONResponse(event_json(request, item, examples))


routes = [
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/events/{event_id:id}", get_event, methods=["GET"]),
]
