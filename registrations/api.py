"""JSON booking and cancellation for integrations."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events.api import problem
from lunchkafe.services import services
from registrations import booking, errors
from registrations.attendee import validate_attendee


async def _json_body(request: Request) -> dict[str, Any] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        # Requiring JSON keeps plain cross-site forms from reaching this endpoint.
        return problem(415, "unsupported_media_type", "Skicka JSON (application/json).")
    raw = await request.body()
    if len(raw) > 20_000:
        return problem(413, "too_large", "För stor begäran.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return problem(400, "bad_json", "Kroppen är inte giltig JSON.")
    if not isinstance(body, dict):
        return problem(400, "bad_json", "Kroppen måste vara ett JSON-objekt.")
    return body


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
    try:
        event_id = int(request.path_params["event_id"])
    except ValueError:
        return problem(404, "not_found", "Evenemanget finns inte.")
    body = await _json_body(request)
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
        async with app.transaction() as session:
            result = await booking.book(
                session,
                event_id=event_id,
                attendee=attendee,
                secret_key=app.settings.secret_key,
                tz_name=app.settings.timezone,
            )
    except errors.EventNotFound as exc:
        return problem(404, exc.code, exc.message)
    except errors.BookingClosed as exc:
        return problem(409, exc.code, exc.message)
    # A repeat gets the registration's state but not its link, which is mailed again to
    # the address instead: knowing someone's address must not open their booking.
    manage_url = (
        str(request.url_for("manage", token=result.manage_token))
        if result.manage_token is not None
        else None
    )
    return JSONResponse(
        {
            "status": result.registration.status.value,
            "waitlist_position": result.waitlist_position,
            "manage_url": manage_url,
        },
        status_code=201 if result.created else 200,
    )


async def delete_registration(request: Request) -> Response:
    try:
        async with services(request).transaction() as session:
            registration = await booking.cancel(session, token=request.path_params["token"])
    except errors.RegistrationNotFound as exc:
        return problem(404, exc.code, exc.message)
    return JSONResponse({"status": registration.status.value})


routes = [
    Route("/api/events/{event_id}/registrations", create_registration, methods=["POST"]),
    Route("/api/manage/{token}", delete_registration, methods=["DELETE"]),
]
