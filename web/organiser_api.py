"""The organiser API: events, their lists of people, and messages, for an organiser's own tools.

Every route takes a personal access token (`Authorization: Bearer`, organisers.access.
requires_token) and acts with its owner's role; a session cookie opens nothing here. The
answers hold attendees' names and addresses, so they are kept out of every cache
(foundation.response_headers) and carry no CORS headers (foundation.cors): a page on
another site can neither read them nor send the JSON these routes require. Every change is
logged in the audit log (organisers.event_actions, organisers.messages). These routes came
after the first version of the API, so they live only under /api/v1/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from limits import RateLimitItem
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from events.models import EventKind, EventStatus
from events.rules import (
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    MAX_JOIN_URL,
    MAX_SUMMARY,
    MAX_TITLE,
    MAX_VENUE,
    MIN_CAPACITY,
)
from events.schedule import EventChanges, EventDraft
from foundation import ids  # also registers {name:id} before the routes compile
from foundation.body_limit import ORGANISER_API_LIMIT
from foundation.json_body import json_object
from foundation.openapi import Operation, Reply, v1_only
from foundation.ratelimit import SEND_RATE_LIMIT_PER_EVENT, SEND_RATE_LIMIT_PER_SENDER
from foundation.services import services
from foundation.site_paths import url
from foundation.timestamps import utcnow
from foundation.typed_body import Moment, validated
from mail.models import Audience
from mail.outbox import send_progress
from organisers import event_actions, send_keys
from organisers.access import bearer_of, current, requires_token
from organisers.attendees_workspace import attendee_list
from registrations import listing
from registrations.messaging import MAX_BODY, MAX_SUBJECT
from registrations.models import RegistrationStatus
from registrations.organising import MAX_NOTE

Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Instant = Annotated[
    datetime,
    Field(description="ISO 8601 (RFC 3339) in Europe/Stockholm time, with its UTC offset"),
]
Id = Annotated[int, Field(ge=1, le=ids.MAX_ID)]
Capacity = Annotated[
    int,
    Field(
        json_schema_extra={"minimum": MIN_CAPACITY, "maximum": MAX_CAPACITY},
        description="Seats in all",
    ),
]


def _text(maximum: int, description: str = "") -> Any:
    return Field(
        default=None,
        max_length=maximum,
        description=description or "Plain text: no control characters or RFC 2047 words",
    )


class OrganiserEvent(BaseModel):
    """An event as its organisers see it: drafts too, and the join link."""

    id: Id
    uid: str = Field(description="The iCalendar UID (RFC 5545), stable across changes")
    kind: EventKind
    title: str
    summary: str
    series: str | None = Field(description="The slug of the series it belongs to")
    starts_at: Instant
    ends_at: Instant
    capacity: int = Field(ge=0)
    join_url: str | None = Field(description="The link to an online event; attendees only")
    venue: str | None
    status: EventStatus
    confirmed: int = Field(ge=0, description="People with a seat")
    waitlisted: int = Field(ge=0, description="People waiting for a seat")
    seats_left: int = Field(ge=0)
    url: Url = Field(description="The event's public page (not found while a draft)")

    @classmethod
    def of(cls, request: Request, item: listing.EventListing) -> OrganiserEvent:
        event = item.event
        settings = services(request).settings
        return cls(
            id=event.id,
            uid=event.uid,
            kind=event.kind,
            title=event.title,
            summary=event.summary,
            series=event.series.slug if event.series is not None else None,
            starts_at=event.starts_at.astimezone(settings.tz),
            ends_at=event.ends_at.astimezone(settings.tz),
            capacity=event.capacity,
            join_url=event.join_url,
            venue=event.venue,
            status=event.status,
            confirmed=item.confirmed,
            waitlisted=item.waitlisted,
            seats_left=item.seats_left,
            url=url(settings.base_url, "event", event_id=event.id),
        )


class OrganiserEventList(BaseModel):
    """Every event, drafts and past ones included, by start."""

    events: list[OrganiserEvent]


class NewEvent(BaseModel):
    """An event to create: a draft unless `status` is `published`."""

    model_config = ConfigDict(strict=True, extra="forbid")  # typed_body.validated says so

    title: str = Field(max_length=MAX_TITLE)
    starts_at: Moment
    ends_at: Moment
    capacity: Capacity
    summary: str | None = _text(MAX_SUMMARY)
    description: str | None = _text(MAX_DESCRIPTION, "Markdown (CommonMark, no raw HTML)")
    kind: EventKind | None = Field(default=None, strict=False)
    series: str | None = Field(default=None, max_length=80, description="A series' slug")
    join_url: str | None = _text(MAX_JOIN_URL, "A web link (https or http), for an online event")
    venue: str | None = _text(MAX_VENUE, "Where it is held, for an event on site")
    status: Literal["draft", "published"] | None = None


class EventPatch(BaseModel):
    """The fields to change; those left out stay. Moving the time, place, link or title
    sends every confirmed attendee an updated invite; more seats promote from the
    waitlist. `status: published` publishes a draft. An empty `join_url` or `venue`
    clears it."""

    model_config = ConfigDict(strict=True, extra="forbid")  # typed_body.validated says so

    title: str | None = _text(MAX_TITLE)
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    capacity: Capacity | None = None
    join_url: str | None = _text(MAX_JOIN_URL, "A web link (https or http); empty clears it")
    venue: str | None = _text(MAX_VENUE, "Empty clears it")
    status: Literal["published"] | None = None


class CancelRequest(BaseModel):
    """Why, in the organiser's words, carried in every attendee's cancellation notice."""

    model_config = ConfigDict(strict=True, extra="forbid")  # typed_body.validated says so

    reason: str | None = _text(MAX_NOTE, "Plain text, line breaks kept")


class Person(BaseModel):
    """Someone on an event's list."""

    name: str
    email: str
    organisation: str
    municipality: str = Field(description="Municipality or region")
    status: RegistrationStatus
    waitlist_position: int | None = Field(ge=1, description="1 is next in line")
    checked_in: bool = Field(description="Marked present on the day")


class PersonList(BaseModel):
    """Confirmed by booking, the waitlist in its order, then the cancelled."""

    registrations: list[Person]


class MessageRequest(BaseModel):
    """A message in the organiser's words, to the confirmed, the waitlisted, or all."""

    model_config = ConfigDict(strict=True, extra="forbid")  # typed_body.validated says so

    subject: str = Field(max_length=MAX_SUBJECT, description="One line")
    body: str = Field(max_length=MAX_BODY, description="Plain text; blank lines make paragraphs")
    to: Audience = Field(strict=False)


class SendAccepted(BaseModel):
    """A send queued: its messages go out in the background."""

    send_id: Id
    progress: Url = Field(description="Where its progress is read")


class SendProgress(BaseModel):
    """How many of a send's messages wait, went out, failed for good, or were skipped as
    moot (a seat given up since)."""

    queued: int = Field(ge=0)
    sent: int = Field(ge=0)
    failed: int = Field(ge=0)
    skipped: int = Field(ge=0)


def _json(model: BaseModel, status: int = 200) -> Response:
    return JSONResponse(model.model_dump(mode="json"), status_code=status)


async def _body(request: Request, model: type[Any]) -> Any:
    return validated(model, await json_object(request, declared=model.model_fields))


@requires_token()
async def list_organiser_events(request: Request) -> Response:
    async with services(request).transaction() as session:
        items = await listing.all_events(session)
    return _json(OrganiserEventList(events=[OrganiserEvent.of(request, i) for i in items]))


@requires_token()
async def create_organiser_event(request: Request) -> Response:
    app = services(request)
    new: NewEvent = await _body(request, NewEvent)
    draft = EventDraft(
        title=new.title,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        capacity=new.capacity,
        summary=new.summary or "",
        description=new.description or "",
        kind=new.kind or EventKind.CAFE,
        series_slug=new.series,
        join_url=new.join_url,
        venue=new.venue,
        publish=new.status == "published",
    )
    async with app.transaction() as session:
        item = await event_actions.create(
            session, current(request), draft, site_domain=app.settings.site_domain, now=utcnow()
        )
    return _json(OrganiserEvent.of(request, item), 201)


@requires_token()
async def get_organiser_event(request: Request) -> Response:
    async with services(request).transaction() as session:
        item = await event_actions.event_of(session, request.path_params["event_id"])
    return _json(OrganiserEvent.of(request, item))


@requires_token()
async def update_organiser_event(request: Request) -> Response:
    patch: EventPatch = await _body(request, EventPatch)
    changes = EventChanges(
        title=patch.title,
        starts_at=patch.starts_at,
        ends_at=patch.ends_at,
        capacity=patch.capacity,
        join_url=patch.join_url,
        venue=patch.venue,
    )
    async with services(request).transaction() as session:
        item = await event_actions.change(
            session,
            current(request),
            request.path_params["event_id"],
            changes,
            publish=patch.status == "published",
            now=utcnow(),
        )
    return _json(OrganiserEvent.of(request, item))


@requires_token()
async def cancel_organiser_event(request: Request) -> Response:
    cancel: CancelRequest = await _body(request, CancelRequest)
    async with services(request).transaction() as session:
        item = await event_actions.cancel(
            session,
            current(request),
            request.path_params["event_id"],
            reason=cancel.reason or "",
            now=utcnow(),
        )
    return _json(OrganiserEvent.of(request, item))


@requires_token()
async def list_registrations(request: Request) -> Response:
    async with services(request).transaction() as session:
        # Logged as viewed, as the page is: who read an attendee list is accountable
        # (organisers.attendees_workspace).
        listed = await attendee_list(
            session, current(request), request.path_params["event_id"], "", utcnow()
        )
    people = [
        Person(
            name=entry.name,
            email=entry.email,
            organisation=entry.organisation,
            municipality=entry.municipality,
            status=entry.status,
            waitlist_position=entry.position,
            checked_in=entry.attended is True,
        )
        for entry in (*listed.confirmed, *listed.waitlisted, *listed.cancelled)
    ]
    return _json(PersonList(registrations=people))


@requires_token()
async def send_event_message(request: Request) -> Response:
    app = services(request)
    message: MessageRequest = await _body(request, MessageRequest)
    key = send_keys.checked_key(request.headers.get("idempotency-key"))
    event_id = request.path_params["event_id"]
    # Per token (its hash: foundation.ratelimit keys it) and per event, every attempt.
    await send_keys.within_limits(app.send_limiter, f"token:{bearer_of(request)}", event_id)
    async with app.transaction() as session:
        sent = await send_keys.message_once(
            session,
            current(request),
            event_id,
            subject=message.subject,
            body=message.body,
            audience=message.to,
            key=key,
            now=utcnow(),
        )
    # From BASE_URL, never the request's Host (foundation.site_paths).
    base = app.settings.base_url.rstrip("/")
    progress = base + request.app.url_path_for("organiser_api_send", send_id=sent.send.id)
    accepted = SendAccepted(send_id=sent.send.id, progress=progress)
    return _json(accepted, 200 if sent.repeated else 202)


@requires_token()
async def get_send(request: Request) -> Response:
    async with services(request).transaction() as session:
        progress = await send_progress(session, request.path_params["send_id"])
    return _json(SendProgress(**progress))


WWW_AUTHENTICATE = {
    "description": 'The Bearer challenge (RFC 6750 §3); `error="invalid_token"` when a '
    "token was sent and is unknown, revoked, or its account disabled",
    "required": True,
    "schema": {"type": "string"},
}
RETRY_AFTER = {
    "description": "Seconds to wait (RFC 9110 §10.2.3)",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
GATE = {
    401: Reply(
        "No token, or one that is unknown, revoked or disabled",
        headers={"WWW-Authenticate": WWW_AUTHENTICATE},
    ),
    429: Reply(
        "Too many refused tokens from this client; try again after Retry-After seconds",
        headers={"Retry-After": RETRY_AFTER},
    ),
}
BODY = {
    400: Reply("Not an I-JSON object (RFC 7493)"),
    413: Reply(f"The body is over {ORGANISER_API_LIMIT:,} bytes"),
    415: Reply("Not application/json"),
    422: Reply("Invalid fields; `fields` maps each to a message"),
}
NOT_FOUND = {404: Reply("No such event")}
IDEMPOTENCY_KEY = {
    "description": "A key of the client's choosing for this message (draft-ietf-httpapi-"
    "idempotency-key-header); repeated, it answers the send it made",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": send_keys.MAX_KEY},
}


def _limits(items: tuple[RateLimitItem, ...]) -> str:
    return ", ".join(str(item) for item in items)


def _operation(summary: str, replies: dict[int, Reply], **options: Any) -> Operation:
    return Operation(summary=summary, replies={**replies, **GATE}, bearer=True, **options)


LIST = _operation(
    "Every event, drafts and past ones included",
    {200: Reply("The events", OrganiserEventList)},
)
CREATE = _operation(
    "Create an event",
    {201: Reply("Created", OrganiserEvent), 404: Reply("No such series"), **BODY},
    body=NewEvent,
    description="A draft unless `status` is `published`. The times must lie ahead, within "
    "2000–2100, at least a minute and at most 24 hours apart.",
)
GET = _operation("One event", {200: Reply("The event", OrganiserEvent), **NOT_FOUND})
PATCH = _operation(
    "Change or publish an event",
    {200: Reply("The event as changed", OrganiserEvent), **NOT_FOUND, **BODY},
    body=EventPatch,
    description="Confirmed attendees get an updated invite (a higher SEQUENCE) when the "
    "time, place, join link or title changes; raising the capacity promotes from the "
    "waitlist at once. The capacity never goes below the seats already confirmed. A "
    "cancelled event cannot be changed (422). A request that changes nothing (every value "
    "as it is, no field, or publishing a published event) is refused with 422 and the code "
    "`nothing_to_change`, and nobody is told anything.",
)
CANCEL = _operation(
    "Cancel an event",
    {
        200: Reply("The event, cancelled", OrganiserEvent),
        **NOT_FOUND,
        409: Reply(
            "Cancelled already (`code`: `already_cancelled`; nobody is told again, nothing is "
            "logged), or a draft, which is deleted, not cancelled"
        ),
        **BODY,
    },
    body=CancelRequest,
    description="Everyone booked or waiting is told, with `reason`, and calendars drop it.",
)
REGISTRATIONS = _operation(
    "The people on the list of an event",
    {200: Reply("Everyone booked, waiting or cancelled", PersonList), **NOT_FOUND},
)
MESSAGE = _operation(
    "Send a message to the people on an event",
    {
        200: Reply(
            "Already sent with this `Idempotency-Key` and this body: the same send, nothing "
            "queued again",
            SendAccepted,
        ),
        202: Reply("Queued; read its progress at `progress`", SendAccepted),
        **NOT_FOUND,
        409: Reply("The event is not published"),
        **BODY,
        422: Reply(
            "Invalid fields (`fields` maps each to a message), or an `Idempotency-Key` "
            "already used for another body (`code`: `idempotency_key_reused`)"
        ),
        429: Reply(
            "Too many sends (per token: "
            f"{_limits(SEND_RATE_LIMIT_PER_SENDER)}; per event, whoever sends: "
            f"{_limits(SEND_RATE_LIMIT_PER_EVENT)}; every attempt counts), or too many refused "
            "tokens from this client; try again after Retry-After seconds",
            headers={"Retry-After": RETRY_AFTER},
        ),
    },
    body=MessageRequest,
    headers={"Idempotency-Key": IDEMPOTENCY_KEY},
    description="One mail to each person in `to`, with the event's time and links (the join "
    "link to the confirmed only), sent in the background. Send an `Idempotency-Key` "
    "(1–200 visible characters, any value unique to this message, such as a UUID) to make a "
    "retry safe: for 24 hours the same key with the same body answers 200 with the same "
    "send and sends nothing more; with another body, 422.",
)
SEND = _operation(
    "The progress of a send",
    {200: Reply("How many are queued, sent, failed", SendProgress), 404: Reply("No such send")},
)

routes = [
    *v1_only("/organiser/events", list_organiser_events, method="GET", operation=LIST),
    *v1_only("/organiser/events", create_organiser_event, method="POST", operation=CREATE),
    *v1_only("/organiser/events/{event_id:id}", get_organiser_event, method="GET", operation=GET),
    *v1_only(
        "/organiser/events/{event_id:id}",
        update_organiser_event,
        method="PATCH",
        operation=PATCH,
    ),
    *v1_only(
        "/organiser/events/{event_id:id}/cancel",
        cancel_organiser_event,
        method="POST",
        operation=CANCEL,
    ),
    *v1_only(
        "/organiser/events/{event_id:id}/registrations",
        list_registrations,
        method="GET",
        operation=REGISTRATIONS,
    ),
    *v1_only(
        "/organiser/events/{event_id:id}/messages",
        send_event_message,
        method="POST",
        operation=MESSAGE,
    ),
    *v1_only(
        "/organiser/sends/{send_id:id}",
        get_send,
        method="GET",
        operation=SEND,
        name="organiser_api_send",
    ),
]
