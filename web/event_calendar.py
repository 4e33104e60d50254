"""Calendar files for everyone: the public feed, a series feed, one event's .ics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.feeds import event_file, public_feed
from foundation import ids  # noqa: F401  (registers {name:id} before the routes compile)
from foundation.conditional import calendar_response
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow

# Public feeds may be cached by proxies for five minutes: calendar clients poll at the
# feed's REFRESH-INTERVAL (an hour), so a change reaches them within that plus five minutes.
PUBLIC_CACHE = "public, max-age=300"


async def all_events_feed(request: Request) -> Response:
    return await _feed(request, None)


async def _feed(request: Request, series_slug: str | None) -> Response:
    app = services(request)
    file = await public_feed(
        app.reading,
        app.feed_cache,
        app.feed_memo,
        base_url=app.settings.base_url,
        site_name=app.settings.site_name,
        now=utcnow(),
        series_slug=series_slug,
    )
    return calendar_response(request, file, cache_control=PUBLIC_CACHE)


async def series_feed(request: Request) -> Response:
    return await _feed(request, request.path_params["slug"])


async def event_ics(request: Request) -> Response:
    app = services(request)
    event_id: int = request.path_params["event_id"]
    async with app.reading() as session:
        file = await event_file(session, event_id, base_url=app.settings.base_url)
    return calendar_response(
        request, file, cache_control=PUBLIC_CACHE, filename=f"lunchkafe-{event_id}.ics"
    )


routes = [
    Route(ROUTES["feed_all"], all_events_feed, name="feed_all"),
    Route(ROUTES["feed_series"], series_feed, name="feed_series"),
    Route(ROUTES["event_ics"], event_ics, name="event_ics"),
]
