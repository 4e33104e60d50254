"""Booking forms and the manage page an attendee reaches from every mail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from babel.dates import format_timedelta
from starlette.datastructures import URL, FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events import links
from events.opening import BookingClosed
from foundation import csrf, flash, honeypot, ids, metrics  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.i18n import format_clock
from foundation.page_memo import mark_fresh
from foundation.ratelimit import TooManyBookings, client_host
from foundation.rendering import language_of, page_link, render, said
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from registrations import booking, errors, listing, receipt
from registrations.attendee import Attendee, validate_attendee
from registrations.models import RegistrationStatus
from registrations.overviews import booking_overview, event_overview

FIELDS = ("name", "email", "organisation", "municipality")


def _values(form: FormData) -> dict[str, str]:
    values = {name: str(form.get(name, ""))[:1000] for name in FIELDS}
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    return values


def _attendee(request: Request, values: dict[str, str]) -> Any:
    # Booked on the English page, mailed in English from then on (registrations.models).
    return validate_attendee(
        name=values["name"],
        email=values["email"],
        organisation=values["organisation"],
        municipality=values["municipality"],
        consent=values["consent"] == "yes",
        language=language_of(request),
        smtputf8=services(request).settings.smtp_utf8,
    )


async def book_event(request: Request) -> Response:
    app = services(request)
    event_id: int = request.path_params["event_id"]
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = _values(form)
    try:
        honeypot.check(form)
        attendee = _attendee(request, values)
        result = await booking.book_within_limits(
            app, client_host(request), attendee, event_id=event_id
        )
    except honeypot.Filled as exc:
        metrics.booked("spam")
        return await _event_with_errors(request, event_id, values, refused=said(request, exc))
    except TooManyBookings as exc:
        metrics.booked("rate_limited")
        return _too_many_bookings(request, exc, request.url_for("event", event_id=event_id))
    except errors.InvalidAttendee as exc:
        metrics.booked("invalid")
        return await _event_with_errors(request, event_id, values, field_errors=exc.fields)
    except BookingClosed as exc:
        metrics.booked("closed")
        return await _event_with_errors(request, event_id, values, closed=said(request, exc))
    metrics.booked(metrics.booking_outcome(created=result.created, confirmed=result.confirmed))
    return _to_receipt(request, page_link(request, "event_received", event_id=event_id), attendee)


def _to_receipt(request: Request, path: str, attendee: Attendee) -> Response:
    """303 to the receipt page, with the address for it in a note (post/redirect/get); the
    booker's next pages count their seat in every process (foundation.page_memo)."""
    settings = services(request).settings
    response = RedirectResponse(path, status_code=303)
    flash.leave(
        response,
        attendee.email,
        path=path,
        secret_key=settings.secret_key,
        secure=settings.base_url.startswith("https"),
    )
    mark_fresh(response, secure=settings.base_url.startswith("https"))
    return response


async def event_received(request: Request) -> Response:
    """What a booking of one event answers (registrations/receipt.py), also on a reload."""
    app = services(request)
    event_id: int = request.path_params["event_id"]
    async with app.reading() as session:
        overview = await event_overview(session, event_id, utcnow(), tz_name=app.settings.timezone)
    email = flash.read(request, app.settings.secret_key)
    return _receipt_page(
        request,
        receipt.for_event(email, overview.item.event),
        examples=overview.examples,
        back=page_link(request, "event", event_id=event_id),
    )


def _receipt_page(
    request: Request,
    received: receipt.Receipt,
    *,
    back: str,
    series: Any = None,
    examples: Any = (),
) -> Response:
    settings = services(request).settings
    response = render(
        request,
        "registrations/received.html",
        {
            "receipt": received,
            "series": series,
            "skipped": [(event, said(request, exc)) for event, exc in received.skipped],
            "examples": examples,
            "back": back,
            # Named so that people can look for the mail, and find it in a spam folder.
            "sender": parseaddr(settings.mail_from)[1],
            # Whom to write to is the contact address of every footer, never ORGANISER_EMAIL
            # (the ORGANIZER of invitations, which may be a mailbox nobody reads).
            "contact": settings.agency_email,
        },
    )
    if received.email:  # a page with an address on it is kept by no cache
        response.headers["cache-control"] = "private, no-store"
    return response


async def _event_with_errors(
    request: Request,
    event_id: int,
    values: dict[str, str],
    *,
    field_errors: Mapping[str, str] | None = None,
    closed: str | None = None,  # why booking is closed, in the visitor's language
    refused: str | None = None,  # the form as a whole, kept for sending again
) -> Response:
    """The event page again, with what was typed and what was wrong (422, or 409 when
    booking has closed meanwhile)."""
    app = services(request)
    async with app.reading() as session:
        overview = await event_overview(session, event_id, utcnow(), tz_name=app.settings.timezone)
    return render(
        request,
        "events/event.html",
        {
            "item": overview.item,
            "examples": overview.examples,
            "instead": overview.next_dates,
            "errors": field_errors or {},
            "values": values,
            "closed": closed,
            "refused": refused,
            **links.for_pages(app.settings.base_url),
        },
        status_code=422 if field_errors or refused else 409,
    )


def _too_many_bookings(request: Request, exc: TooManyBookings, back: URL) -> Response:
    """429 with Retry-After, and a page saying when to try again in the visitor's words."""
    language = language_of(request)
    wait = exc.retry_after
    # Rounded up to the whole minute shown, so trying at that minute is never too early.
    retry_at = (utcnow() + timedelta(seconds=wait + 59)).replace(second=0, microsecond=0)
    response = render(
        request,
        "registrations/too_many_bookings.html",
        {
            # Whole minutes rounded up from a minute on, as the time shown is.
            "wait": format_timedelta(
                timedelta(seconds=wait if wait < 60 else -(-wait // 60) * 60),
                threshold=1,
                locale=language,
            ),
            "retry_at": format_clock(retry_at, services(request).settings.timezone, language),
            "back": str(back),
        },
        status_code=429,
    )
    response.headers["Retry-After"] = str(wait)  # RFC 9110 §10.2.3: seconds
    return response


async def book_series(request: Request) -> Response:
    app = services(request)
    slug = request.path_params["slug"]
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = _values(form)
    try:
        honeypot.check(form)
        attendee = _attendee(request, values)
        result = await booking.book_series_within_limits(
            app, client_host(request), attendee, series_slug=slug
        )
    except honeypot.Filled as exc:
        metrics.booked("spam")
        return await _series_with_errors(request, slug, values, refused=said(request, exc))
    except errors.InvalidAttendee as exc:
        metrics.booked("invalid")
        return await _series_with_errors(request, slug, values, field_errors=exc.fields)
    except TooManyBookings as exc:
        metrics.booked("rate_limited")
        return _too_many_bookings(request, exc, request.url_for("series", slug=slug))
    for one in result.booked:
        metrics.booked(metrics.booking_outcome(created=one.created, confirmed=one.confirmed))
    metrics.booked("closed", len(result.skipped))
    return _to_receipt(request, page_link(request, "series_received", slug=slug), attendee)


async def _series_with_errors(
    request: Request,
    slug: str,
    values: dict[str, str],
    *,
    field_errors: Mapping[str, str] | None = None,
    refused: str | None = None,
) -> Response:
    """The series page again, with what was typed and what was wrong (422)."""
    app = services(request)
    async with app.reading() as session:
        overview = await listing.series_overview(
            session, slug, utcnow(), tz_name=app.settings.timezone
        )
    return render(
        request,
        "events/series.html",
        {
            "series": overview.series,
            "items": overview.items,
            "bookable": overview.bookable,
            "skipped": overview.skipped,
            "errors": field_errors or {},
            "values": values,
            "refused": refused,
            **links.for_pages(app.settings.base_url),
        },
        status_code=422,
    )


async def series_received(request: Request) -> Response:
    """What a series booking answers: its events, booked or not and why, the same for all."""
    app = services(request)
    slug = request.path_params["slug"]
    async with app.reading() as session:
        overview = await listing.series_overview(
            session, slug, utcnow(), tz_name=app.settings.timezone
        )
    email = flash.read(request, app.settings.secret_key)
    return _receipt_page(
        request,
        receipt.for_series(email, overview.bookable, overview.skipped),
        series=overview.series,
        back=page_link(request, "series", slug=slug),
    )


async def manage(request: Request) -> Response:
    """One booking: its details, its own .ics, a link to cancel, and once cancelled a form
    to book again filled with its details (they are on this page already, behind the
    token) and the next dates. Whoever booked with an address may not be its owner, so
    nothing here reaches the address's other bookings or its personal feed; that link
    goes only by mail. Reading the page writes nothing."""
    return await _booking_page(request, "registrations/manage.html")


async def cancel_page(request: Request) -> Response:
    """ "Vill du avboka?": cancelling takes a second, deliberate step, a form without
    JavaScript; the page itself changes nothing."""
    return await _booking_page(request, "registrations/cancel.html")


async def _booking_page(request: Request, template: str) -> Response:
    app = services(request)
    token = request.path_params["token"]
    async with app.reading() as session:
        overview = await booking_overview(session, token, utcnow(), tz_name=app.settings.timezone)
    registration = overview.registration
    return render(
        request,
        template,
        {
            "registration": registration,
            "item": overview.item,
            "position": overview.position,
            "token": token,
            "examples": overview.examples,
            "closed": overview.closed,
            "instead": overview.next_dates,
            "values": {name: getattr(registration, name) or "" for name in FIELDS},
            "errors": {},
            "cancelled": request.query_params.get("done") == "cancelled"
            and registration.status == RegistrationStatus.CANCELLED,
            "statuses": RegistrationStatus,
        },
    )


async def cancel(request: Request) -> Response:
    app = services(request)
    token = request.path_params["token"]
    await csrf.checked_form(request, app.settings.secret_key)
    await booking.cancel_now(app, token=token)
    response = RedirectResponse(
        request.url_for("manage", token=token).include_query_params(done="cancelled"),
        status_code=303,
    )
    mark_fresh(response, secure=app.settings.base_url.startswith("https"))
    return response


routes = [
    Route("/events/{event_id:id}/book", book_event, methods=["POST"], name="book_event"),
    Route("/events/{event_id:id}/received", event_received, name="event_received"),
    Route("/series/{slug:slug}/book", book_series, methods=["POST"], name="book_series"),
    Route("/series/{slug:slug}/received", series_received, name="series_received"),
    Route(ROUTES["manage"], manage, name="manage"),
    Route("/manage/{token}/cancel", cancel_page, name="cancel_confirm"),
    Route("/manage/{token}/cancel", cancel, methods=["POST"], name="cancel"),
]
