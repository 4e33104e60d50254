"""An attendee's own calendar: their invite as a file, their personal feed and its page.

The personal feed spans every booking of an address, so its token travels only by mail to
that address (see registrations/feeds.py); no manage page links it, and the feed itself
carries no manage links.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events import links
from events.calendar import build_feed
from events.entries import attendee_entry, public_entry
from events.feeds import EPOCH
from foundation import csrf
from foundation.conditional import CalendarFile, calendar_response
from foundation.rendering import render
from foundation.services import services
from foundation.timestamps import utcnow
from registrations import booking, errors
from registrations.feeds import confirmed_bookings, find_feed, latest_change, replace_feed_address
from registrations.models import RegistrationStatus

# Personal data, join links and a secret in the URL: kept by no cache, shared or private.
# Calendar clients still revalidate with the ETag, so polling stays cheap.
PRIVATE_CACHE = "private, no-store"
FEED_GONE = "Kalendern finns inte, eller så har länken bytts ut."


async def personal_feed(request: Request) -> Response:
    app = services(request)
    base = app.settings.base_url
    async with app.transaction() as session:
        try:
            feed = await find_feed(session, request.path_params["token"])
        except errors.RegistrationNotFound:
            raise HTTPException(404, FEED_GONE) from None
        bookings = await confirmed_bookings(session, feed, since=utcnow() - timedelta(days=90))
        latest = await latest_change(session, feed) or EPOCH
        # No manage links: a feed gets shared, synced and forwarded, and a manage link cancels.
        entries = [
            attendee_entry(
                r.event,
                event_url=f"{base}/events/{r.event_id}",
                sequence=r.event.sequence + r.sequence_bump,
            )
            for r in bookings
        ]
    body = build_feed(entries, name=f"{app.settings.site_name}: mina bokningar")
    return calendar_response(
        request, CalendarFile.of(body, latest.replace(microsecond=0)), cache_control=PRIVATE_CACHE
    )


async def feed_page(request: Request) -> Response:
    """The page the mailed link opens: subscribe links, and replacing the address."""
    token = request.path_params["token"]
    async with services(request).transaction() as session:
        try:
            await find_feed(session, token)
        except errors.RegistrationNotFound:
            raise HTTPException(404, FEED_GONE) from None
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
    try:
        async with app.transaction() as session:
            await replace_feed_address(
                session, request.path_params["token"], app.settings.secret_key
            )
    except errors.RegistrationNotFound:
        raise HTTPException(404, FEED_GONE) from None
    return RedirectResponse(request.url_for("feed_replaced"), status_code=303)


async def feed_replaced(request: Request) -> Response:
    return render(request, "registrations/feed_replaced.html", {})


async def manage_ics(request: Request) -> Response:
    """The event as a file for the attendee's calendar; with the join link once confirmed."""
    app = services(request)
    token = request.path_params["token"]
    async with app.transaction() as session:
        try:
            registration = await booking.find_by_token(session, token)
        except errors.RegistrationNotFound:
            raise HTTPException(404, "Länken gäller inte längre.") from None
        await session.refresh(registration, ["event"])
        event = registration.event
    event_url = f"{app.settings.base_url}/events/{event.id}"
    if registration.status == RegistrationStatus.CONFIRMED:
        entry = attendee_entry(
            event,
            event_url=event_url,
            manage_url=f"{app.settings.base_url}/manage/{token}",
            sequence=event.sequence + registration.sequence_bump,
        )
    else:
        entry = public_entry(event, event_url=event_url)
    # The registration counts too: a promotion or a cancellation changes this file.
    changed = max(event.updated_at, registration.updated_at)
    file = CalendarFile.of(build_feed([entry], name=event.title), changed)
    return calendar_response(
        request, file, cache_control=PRIVATE_CACHE, filename=f"lunchkafe-{event.id}.ics"
    )


routes = [
    # The .ics first: "{token}" alone would match "abc.ics" too.
    Route("/feeds/{token}.ics", personal_feed, name="feed_personal"),
    Route("/feeds/replaced", feed_replaced, name="feed_replaced"),
    Route("/feeds/{token}", feed_page, name="feed_page"),
    Route("/feeds/{token}/replace", replace_address, methods=["POST"], name="feed_replace"),
    Route("/manage/{token}/event.ics", manage_ics, name="manage_ics"),
]
