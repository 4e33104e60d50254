"""JSON booking and cancellation for integrations.

Neither sends CORS headers (foundation.cors): a page on another site must not book or cancel
with its visitor's browser. Bodies are checked against the models below (the JSON types,
foundation.typed_body) and then by the domain's own rules for what an attendee types
(registrations.attendee, shared with the forms); both kinds of error answer one 422.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from foundation import ids, metrics  # ids registers {name:id} before the routes compile
from foundation.body_limit import API_LIMIT
from foundation.errors import DomainError
from foundation.i18n import accepted_language
from foundation.json_body import json_object
from foundation.openapi import Operation, Reply, versioned
from foundation.ratelimit import client_host
from foundation.services import services
from foundation.typed_body import typed_body
from registrations import booking, errors, receipt
from registrations.attendee import MAX_LENGTH, validate_attendee

TEXT_RULE = (
    "No control characters (line breaks and tabs are folded to spaces), no bidirectional "
    "overrides, no RFC 2047 encoded words (=?…?=); runs of white space count as one."
)
# RFC 5321 §4.5.3.1.3: a path is at most 256 octets, its angle brackets included.
MAX_ADDRESS = 254


def _text(maximum: int, description: str, minimum: int = 0) -> JsonDict:
    """What the domain enforces of a text member, for the document (it is not checked here)."""
    shown: JsonDict = {"maxLength": maximum, "description": description}
    if minimum:
        shown["minLength"] = minimum
    return shown


class RegistrationRequest(BaseModel):
    """A booking: who attends, and their consent to the handling of their personal data.
    Every field that breaks a rule below is named in the 422 answer's `fields`."""

    # The model checks the JSON types; lengths, the text rule, the address and consent are
    # registrations.attendee's rules (shared with the forms), stated here for the document.

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada Lind",
                    "email": "ada.lind@kommun.example.se",
                    "organisation": "Exempelkommun",
                    "municipality": "Exempelby",
                    "consent": True,
                    "language": "sv",
                }
            ]
        }
    )

    name: str = Field(
        json_schema_extra=_text(
            MAX_LENGTH, "Must hold a letter, and no web or e-mail address. " + TEXT_RULE, 1
        )
    )
    email: str = Field(
        json_schema_extra={
            "format": "email",
            "maxLength": MAX_ADDRESS,
            "description": "Where the confirmation and the manage link go",
        }
    )
    organisation: str | None = Field(default=None, json_schema_extra=_text(MAX_LENGTH, TEXT_RULE))
    municipality: str | None = Field(default=None, json_schema_extra=_text(MAX_LENGTH, TEXT_RULE))
    consent: bool = Field(
        json_schema_extra={
            "const": True,
            "description": "Must be true: the attendee accepts the privacy notice",
        }
    )
    language: Literal["sv", "en"] | None = Field(
        default=None,
        description="The language of every mail about this booking and of its calendar "
        "invite: `sv` (Swedish) or `en` (English). Without it, the first of these the "
        "request's `Accept-Language` header accepts (RFC 9110 §12.5.4), else the site's "
        "default language. Any other value is refused with 422, `fields.language` saying so",
    )


class BookingReceipt(BaseModel):
    """What a booking answers: the same for a new booking and for an address already booked,
    so the answer tells nobody who is booked where; the rest goes by mail to the address."""

    model_config = ConfigDict(extra="forbid")

    event_id: int = Field(ge=1, le=ids.MAX_ID)
    email: str = Field(description="Where the mail about the booking goes, as validated")
    detail: str = Field(
        description="A sentence in Swedish for people: received, and where the mail about it goes"
    )


class Cancellation(BaseModel):
    """The registration's state after cancelling."""

    status: Literal["cancelled"]


async def create_registration(request: Request) -> Response:
    app = services(request)
    event_id: int = request.path_params["event_id"]
    body = await json_object(request, declared=RegistrationRequest.model_fields)
    typed = typed_body(RegistrationRequest, body)
    try:
        attendee = validate_attendee(
            name=typed.text("name"),
            email=typed.text("email"),
            organisation=typed.text("organisation"),
            municipality=typed.text("municipality"),
            consent=typed.flag("consent"),
            # Given, it must be a language of ours (an empty string too); absent, the header's.
            language=typed.text("language") if "language" in typed.values else _accepted(request),
            smtputf8=app.settings.smtp_utf8,
        )
    except errors.InvalidAttendee as exc:
        metrics.booked("invalid")
        # A wrong type says more than "empty": the model's message wins for its field.
        raise errors.InvalidAttendee({**exc.fields, **_said(typed.errors)}) from None
    if typed.errors:
        metrics.booked("invalid")
        raise errors.InvalidAttendee(_said(typed.errors))

    # Refusals (no such event, closed, too many bookings) answer as problem documents
    # through the app's one handler for domain errors (foundation.error_pages).
    try:
        result = await booking.book_within_limits(
            app, client_host(request), attendee, event_id=event_id
        )
    except DomainError as exc:
        metrics.booking_refused(exc.code)
        raise
    metrics.booked(metrics.booking_outcome(created=result.created, confirmed=result.confirmed))
    # The same answer for a new booking and a repeat (registrations/receipt.py): whether the
    # address got a seat, a place in line or already held one goes by mail to the address.
    received = receipt.for_event(attendee.email, result.event)
    answer = BookingReceipt.model_validate(receipt.as_json(received))
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


def _said(typed_errors: dict[str, str]) -> dict[str, str]:
    """The model's messages, but for the language the choices: "Ogiltigt värde." tells
    nobody what would do."""
    if "language" in typed_errors:
        return {**typed_errors, "language": errors.MSG_LANGUAGE}
    return typed_errors


def _accepted(request: Request) -> str:
    """The language the request's Accept-Language prefers, else the site's default."""
    header = request.headers.get("accept-language", "")
    return accepted_language(header) or services(request).settings.default_language


async def delete_registration(request: Request) -> Response:
    registration = await booking.cancel_now(services(request), token=request.path_params["token"])
    answer = Cancellation.model_validate({"status": registration.status.value})
    return JSONResponse(answer.model_dump(mode="json"))


RETRY_AFTER = {
    "description": "Seconds to wait (RFC 9110 §10.2.3)",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
CREATE_REGISTRATION = Operation(
    summary="Book a seat (or a place on the waitlist); idempotent per address",
    description="Whether the address got a seat or a place on the waitlist, the join link "
    "and the link to manage the booking go by mail to the address only. Booking the same "
    "event again with the same address (in any letter case) changes nothing; while the "
    "event can be booked, the address is mailed its link again, at most once an hour per "
    "inbox and not within five minutes of the booking (whose own mail is on its way).",
    body=RegistrationRequest,
    replies={
        202: Reply(
            "Received. The same answer for a new booking and for an address already booked",
            BookingReceipt,
        ),
        400: Reply(
            "Not an I-JSON object (RFC 7493): not UTF-8, not an object, duplicate names, "
            "lone surrogates, or nested too deep"
        ),
        404: Reply("No such event"),
        409: Reply("The event is not open for booking; `detail` says why"),
        413: Reply(f"The body is over {API_LIMIT:,} bytes"),
        415: Reply("Not application/json"),
        422: Reply("Invalid fields; `fields` maps each to a message"),
        429: Reply(
            "Too many bookings from this client or for this address; try again after "
            "Retry-After seconds",
            headers={"Retry-After": RETRY_AFTER},
        ),
    },
)
DELETE_REGISTRATION = Operation(
    summary="Cancel the registration behind a manage link",
    description="`token` is the last part of the manage link in the attendee's mail. A "
    "freed seat goes to the first on the waitlist at once.",
    replies={
        200: Reply("Cancelled (also when it already was)", Cancellation),
        404: Reply("Unknown or revoked token"),
    },
)

routes = [
    *versioned(
        "/events/{event_id:id}/registrations",
        create_registration,
        method="POST",
        operation=CREATE_REGISTRATION,
    ),
    *versioned(
        "/manage/{token}", delete_registration, method="DELETE", operation=DELETE_REGISTRATION
    ),
]
