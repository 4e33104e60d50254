"""JSON booking and cancellation for integrations."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events.errors import EventNotFound
from foundation import ids  # noqa: F401  (registers {name:id} before the routes compile)
from foundation.json_body import json_object
from foundation.problems import problem, problem_for
from foundation.ratelimit import TooManyBookings
from foundation.services import services
from registrations import booking, errors, receipt
from registrations.attendee import validate_attendee


def _text(body: dict[str, Any], name: str, field_errors: dict[str, str]) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        field_errors[name] = "Måste vara en textsträng."
        return ""
    return value


async def create_registration(request: Request) -> Response:
    app = services(request)
    event_id: int = request.path_params["event_id"]
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    type_errors: dict[str, str] = {}
    fields = {
        n: _text(body, n, type_errors) for n in ("name", "email", "organisation", "municipality")
    }
    consent = body.get("consent")
    if consent is not None and not isinstance(consent, bool):
        type_errors["consent"] = "Måste vara true eller false."
    try:
        attendee = validate_attendee(consent=consent is True, **fields)
    except errors.InvalidAttendee as exc:
        type_errors = {**exc.errors, **type_errors}
    if type_errors:
        return problem(422, "invalid", "Formuläret innehåller fel.", fields=type_errors)
    try:
        await app.booking_limiter.check(request, attendee.email_normalised)
        async with app.transaction() as session:
            result = await booking.book(
                session,
                event_id=event_id,
                attendee=attendee,
                secret_key=app.settings.secret_key,
                tz_name=app.settings.timezone,
            )
    except TooManyBookings as exc:
        wait = exc.retry_after
        return problem(
            429,
            "rate_limited",
            f"För många bokningar på kort tid. Försök igen om {wait} sekunder.",
            headers={"Retry-After": str(wait)},  # RFC 9110 §10.2.3: delay in seconds
            retry_after=wait,
        )
    except (EventNotFound, errors.BookingClosed) as exc:
        return problem_for(exc)
    await app.booking_limiter.booked(attendee.email_normalised, result.created)
    # The same answer for a new booking and a repeat (registrations/receipt.py): whether the
    # address got a seat, a place in line or already held one goes by mail to the address.
    received = receipt.for_event(attendee.email, result.event)
    return JSONResponse(receipt.as_json(received), status_code=202)


async def delete_registration(request: Request) -> Response:
    try:
        async with services(request).transaction() as session:
            registration = await booking.cancel(session, token=request.path_params["token"])
    except errors.RegistrationNotFound as exc:
        return problem_for(exc)
    return JSONResponse({"status": registration.status.value})


routes = [
    Route("/api/events/{event_id:id}/registrations", create_registration, methods=["POST"]),
    Route("/api/manage/{token}", delete_registration, methods=["DELETE"]),
]
