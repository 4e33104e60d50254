"""Public event pages: what is on, one event, one series."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events import links
from foundation import ids  # noqa: F401  (registers {name:id} before the routes compile)
from foundation.page_memo import wants_fresh
from foundation.rendering import closed_reason, render
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from registrations import listing
from registrations.overviews import event_overview, programme

# Each page's data is read once a second per process, whoever asks (foundation.page_memo),
# except by someone who has just booked or cancelled: they see their own seat counted.


async def home(request: Request) -> Response:
    # ?challenge=slug: only the events filed under it (through the guide material they link).
    challenge = request.query_params.get("challenge") or None
    # ?efter=<start>,<id>: the calendar's next page. Anything else is its first page.
    after = listing.CalendarPlace.parse(request.query_params.get("efter", ""))
    on = await services(request).page(
        f"home:{challenge or ''}:{after or ''}",
        lambda session: programme(session, utcnow(), challenge, after=after),
        fresh=wants_fresh(request),
    )
    chosen = {"challenge": on.chosen} if on.chosen else {}
    return render(
        request,
        "events/home.html",
        {
            "items": on.items,
            "series_list": on.series,
            "linked": on.examples,
            "filed": on.challenges,
            "choices": on.choices,
            "chosen": on.chosen,
            # The query strings of the calendar's next and first page (None: no link).
            "later_page": (
                urlencode({**chosen, "efter": str(on.following)}) if on.following else None
            ),
            "first_page": ("?" + urlencode(chosen) if chosen else "") if on.after else None,
            **links.for_pages(services(request).settings.base_url),
        },
    )


async def event_page(request: Request) -> Response:
    app = services(request)
    event_id: int = request.path_params["event_id"]
    overview = await app.page(
        f"event:{event_id}",
        lambda session: event_overview(session, event_id, utcnow(), tz_name=app.settings.timezone),
        fresh=wants_fresh(request),
    )
    return render(
        request,
        "events/event.html",
        {
            "item": overview.item,
            "examples": overview.examples,
            "methods": overview.methods,
            "instead": overview.next_dates,
            "errors": {},
            "values": {},
            "closed": closed_reason(request, overview.closed),
            **links.for_pages(app.settings.base_url),
        },
    )


async def series_page(request: Request) -> Response:
    app = services(request)
    slug: str = request.path_params["slug"]
    overview = await app.page(
        f"series:{slug}",
        lambda session: listing.series_overview(
            session, slug, utcnow(), tz_name=app.settings.timezone
        ),
        fresh=wants_fresh(request),
    )
    return render(
        request,
        "events/series.html",
        {
            "series": overview.series,
            "items": overview.items,
            "bookable": overview.bookable,
            "skipped": overview.skipped,
            "errors": {},
            "values": {},
            **links.for_pages(app.settings.base_url),
        },
    )


routes = [
    Route(ROUTES["home"], home, name="home"),
    Route(ROUTES["event"], event_page, name="event"),
    Route(ROUTES["series"], series_page, name="series"),
]
