"""Public event pages: what is on, one event, one series."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events import links
from foundation import ids  # noqa: F401  (registers {name:id} before the routes compile)
from foundation.rendering import closed_reason, render
from foundation.services import services
from foundation.timestamps import utcnow
from guide.catalogue import examples_for_event, examples_for_events
from registrations import listing
from registrations.booking import check_bookable
from registrations.errors import BookingClosed


async def home(request: Request) -> Response:
    async with services(request).transaction() as session:
        upcoming = await listing.upcoming(session, utcnow())
        linked = await examples_for_events(session, [item.event.id for item in upcoming])
    by_series: dict[int | None, list[listing.EventListing]] = {}
    for item in upcoming:
        by_series.setdefault(item.event.series_id, []).append(item)
    # Series first, in order of their next event; then the single events.
    groups = sorted(
        ((items[0].event.series, items) for items in by_series.values()),
        key=lambda group: (group[0] is None, group[1][0].event.starts_at),
    )
    return render(
        request,
        "events/home.html",
        {
            "groups": groups,
            "linked": linked,
            **links.for_pages(services(request).settings.base_url),
        },
    )


async def event_page(request: Request) -> Response:
    event_id: int = request.path_params["event_id"]
    async with services(request).transaction() as session:
        item = await listing.get_public_event(session, event_id)
        if item is None:
            raise HTTPException(404, "Evenemanget finns inte.")
        examples = await examples_for_event(session, event_id)
    closed = None
    try:
        check_bookable(item.event, utcnow(), tz_name=services(request).settings.timezone)
    except BookingClosed as exc:
        closed = closed_reason(request, exc.msgid, exc.opens_at)
    return render(
        request,
        "events/event.html",
        {
            "item": item,
            "examples": examples,
            "errors": {},
            "values": {},
            "closed": closed,
            **links.for_pages(services(request).settings.base_url),
        },
    )


async def series_page(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        overview = await listing.series_overview(
            session, request.path_params["slug"], utcnow(), tz_name=app.settings.timezone
        )
    if overview is None:
        raise HTTPException(404, "Serien finns inte.")
    return render(
        request,
        "events/series.html",
        {
            "series": overview.series,
            "items": overview.items,
            "bookable": overview.bookable,
            "errors": {},
            "values": {},
            **links.for_pages(app.settings.base_url),
        },
    )


routes = [
    Route("/", home, name="home"),
    Route("/events/{event_id:id}", event_page, name="event"),
    Route("/series/{slug}", series_page, name="series"),
]
