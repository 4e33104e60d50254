"""An attendee's own calendar: their invite as a file, their personal feed, revoking it."""

from __future__ import annotations

from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events.calendar import build_feed
from events.entries import attendee_entry, public_entry
from events.feeds import EPOCH
from lunchkafe import csrf
from lunchkafe.conditional import CalendarFile, calendar_response
from lunchkafe.services import services
from lunchkafe.timestamps import utcnow
from registrations import booking, errors
from registrations.feeds import (
    confirmed_bookings,
    feed_for,
    find_feed,
    latest_change,
    revoke_feed,
)
from registrations.models import RegistrationStatus

# Personal data and join links: never in a shared cache.
PRIVATE_CACHE = "private, no-cache"


async def personal_feed(request: Request) -> Response:
    app = services(request)
    base = app.settings.base_url
    async with app.transaction() as session:
        try:
            feed = await find_feed(session, request.path_params["token"])
        except errors.RegistrationNotFound:
            raise HTTPException(
                404, "Kalendern finns inte, eller så har länken bytts ut."
            ) from None
        bookings = await confirmed_bookings(session, feed, since=utcnow() - timedelta(days=90))
        latest = await latest_change(session, feed) or EPOCH
        entries = [
            attendee_entry(
                r.event,
                event_url=f"{base}/events/{r.event_id}",
                manage_url=f"{base}/manage/{booking.manage_token(r, app.settings.secret_key)}",
                sequence=r.event.sequence + r.sequence_bump,
            )
            for r in bookings
        ]
    body = build_feed(entries, name=f"{app.settings.site_name}: mina bokningar")
    return calendar_response(
        request, CalendarFile.of(body, latest.replace(microsecond=0)), cache_control=PRIVATE_CACHE
    )


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


async def revoke(request: Request) -> Response:
    """Replace the personal feed's address, e.g. after sharing it by mistake."""
    app = services(request)
    token = request.path_params["token"]
    await csrf.checked_form(request, app.settings.secret_key)
    async with app.transaction() as session:
        try:
            registration = await booking.find_by_token(session, token)
        except errors.RegistrationNotFound:
            raise HTTPException(404, "Länken gäller inte längre.") from None
        feed = await feed_for(session, registration.email_normalised, app.settings.secret_key)
        await revoke_feed(session, feed, app.settings.secret_key)
    return RedirectResponse(
        request.url_for("manage", token=token).include_query_params(done="feed-revoked"),
        status_code=303,
    )


routes = [
    Route("/feeds/{token}.ics", personal_feed, name="feed_personal"),
    Route("/manage/{token}/event.ics", manage_ics, name="manage_ics"),
    Route("/manage/{token}/feed/revoke", revoke, methods=["POST"], name="feed_revoke"),
]
