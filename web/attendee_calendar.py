"""An attendee's own calendar: their invite as a file, their personal feed and its page.

The personal feed spans every booking of an address, so its token travels only by mail to
that address (see registrations/feeds.py); no manage page links it, and the feed itself
carries no manage links.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events import links
from foundation import csrf
from foundation.conditional import calendar_response
from foundation.rendering import render
from foundation.services import services
from foundation.site_paths import ROUTES
from registrations.booking_file import booking_file
from registrations.feeds import find_feed, personal_feed_file, replace_feed_address

# Personal data, join links and a secret in the URL: kept by no cache, shared or private.
# Calendar clients still revalidate with the ETag, so polling stays cheap.
PRIVATE_CACHE = "private, no-store"


async def personal_feed(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        file = await personal_feed_file(
            session,
            request.path_params["token"],
            base_url=app.settings.base_url,
            name=f"{app.settings.site_name}: mina bokningar",
        )
    return calendar_response(request, file, cache_control=PRIVATE_CACHE)


async def feed_page(request: Request) -> Response:
    """The page the mailed link opens: subscribe links, and replacing the address."""
    token = request.path_params["token"]
    async with services(request).transaction() as session:
        await find_feed(session, token)
    response = render(
        request,
        "registrations/feed.html",
        {"token": token, **links.for_pages(services(request).settings.base_url)},
    )
    response.headers["cache-control"] = PRIVATE_CACHE
    return response


async def replace_address(request: Request) -> Response:
    """Give the personal feed a new address, mailed to the address; shown to nobody here."""
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    async with app.transaction() as session:
        await replace_feed_address(session, request.path_params["token"], app.settings.secret_key)
    return RedirectResponse(request.url_for("feed_replaced"), status_code=303)


async def feed_replaced(request: Request) -> Response:
    return render(request, "registrations/feed_replaced.html", {})


async def manage_ics(request: Request) -> Response:
    """The event as a file for the attendee's calendar; with the join link once confirmed."""
    app = services(request)
    async with app.transaction() as session:
        file, event = await booking_file(
            session, request.path_params["token"], base_url=app.settings.base_url
        )
    return calendar_response(
        request, file, cache_control=PRIVATE_CACHE, filename=f"lunchkafe-{event.id}.ics"
    )


routes = [
    # The .ics first: "{token}" alone would match "abc.ics" too.
    Route(ROUTES["feed_personal"], personal_feed, name="feed_personal"),
    Route("/feeds/replaced", feed_replaced, name="feed_replaced"),
    Route(ROUTES["feed_page"], feed_page, name="feed_page"),
    Route("/feeds/{token}/replace", replace_address, methods=["POST"], name="feed_replace"),
    Route(ROUTES["manage_ics"], manage_ics, name="manage_ics"),
]
