"""The JSON API (v1): listing, booking, cancelling, its OpenAPI document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select
from starlette.routing import Route

from events.models import Event
from foundation.services import Services
from guide.catalogue import add_challenge, add_example, link_example
from lunchkafe.app import create_app
from mail.models import OutboxMessage
from registrations.models import Registration
from registrations.organising import cancel_event
from tests.factories import SOON, mailed_manage_token, make_event, make_series

SECRET_JOIN_URL = "https://meet.example.se/secret-room"


def booking(n: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Person {n}",
        "email": f"person{n}@kommun.example.se",
        "organisation": "Exempelkommun",
        "consent": True,
    }
    body.update(overrides)
    return body


async def book(client: httpx.AsyncClient, event_id: int, body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/events/{event_id}/registrations", json=body)


async def registration_count(services: Services) -> int:
    async with services.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Registration)) or 0


async def outbox_count(services: Services) -> int:
    async with services.transaction() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document (RFC 9457) of an error answer, checked for its standard members
    and for the `error` member that clients of the first version read."""
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["title"] == HTTPStatus(response.status_code).phrase
    assert body["type"] == "about:blank"
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["error"]["code"] == body["code"]
    assert body["error"]["message"] == body["detail"]
    assert body["error"].get("fields") == body.get("fields")
    return body


async def test_event_list_and_detail_have_the_documented_shape(
    services: Services, client: httpx.AsyncClient
) -> None:
    series_events = await make_series(services, slug="cafeer", events=2)
    single = await make_event(
        services,
        title="Workshop",
        starts_at=SOON - timedelta(days=2),
        ends_at=SOON - timedelta(days=2) + timedelta(hours=2),
    )
    draft = await make_event(services, title="Utkast", publish=False)
    async with services.transaction() as session:
        await add_challenge(session, slug="forenkling", name="Förenkling")
        await add_example(
            session,
            slug="varberg",
            title="Lokal utvecklingspeng",
            organisation="Varberg",
            summary="Små summor, snabba beslut.",
            challenge_slugs=["forenkling"],
        )
        await link_example(session, event_id=single.id, example_slug="varberg", note="Läs före")

    response = await client.get("/api/v1/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    events = response.json()["events"]
    # Published upcoming events only, soonest first; drafts never show.
    assert [e["id"] for e in events] == [single.id, *(e.id for e in series_events)]
    assert draft.id not in {e["id"] for e in events}

    first = events[0]
    for key in (
        "id",
        "uid",
        "title",
        "series",
        "starts_at",
        "ends_at",
        "capacity",
        "seats_left",
        "waitlist_length",
        "status",
        "url",
        "guide_examples",
    ):
        assert key in first, key
    assert first["uid"] == single.uid
    assert first["series"] is None
    assert first["capacity"] == 20
    assert first["seats_left"] == 20
    assert first["waitlist_length"] == 0
    assert first["status"] == "published"
    assert first["url"] == f"http://testserver/events/{single.id}"
    starts = datetime.fromisoformat(first["starts_at"])
    ends = datetime.fromisoformat(first["ends_at"])
    assert starts.utcoffset() is not None  # ISO 8601 with an offset
    assert starts.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Stockholm
    assert starts == single.starts_at
    assert ends - starts == timedelta(hours=2)
    assert first["guide_examples"] == [
        {
            "slug": "varberg",
            "title": "Lokal utvecklingspeng",
            "organisation": "Varberg",
            "note": "Läs före",
            "url": "http://testserver/guide/varberg",
        }
    ]
    in_series = events[1]
    assert in_series["series"]["slug"] == "cafeer"
    assert in_series["series"]["url"] == "http://testserver/series/cafeer"

    detail = await client.get(f"/api/v1/events/{single.id}")
    assert detail.status_code == 200
    assert detail.json() == first


async def test_join_link_is_never_in_public_json(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, join_url=SECRET_JOIN_URL)
    # Even a confirmed attendee's booking does not put it in the public output.
    assert (await book(client, event.id, booking())).status_code == 202
    listing = await client.get("/api/v1/events")
    detail = await client.get(f"/api/v1/events/{event.id}")
    assert listing.json()["events"][0]["online"] is True
    for response in (listing, detail):
        assert "secret-room" not in response.text
        assert "meet.example.se" not in response.text


async def test_unknown_or_draft_event_is_404(services: Services, client: httpx.AsyncClient) -> None:
    draft = await make_event(services, publish=False)
    for path in (
        f"/api/v1/events/{draft.id}",
        "/api/v1/events/999999",
        "/api/v1/events/not-a-number",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert problem_of(response)["code"] == "not_found"
    response = await book(client, 999999, booking())
    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"
    assert await registration_count(services) == 0


async def registration_states(services: Services, event_id: int) -> dict[str, Any]:
    async with services.transaction() as session:
        rows = (
            await session.scalars(select(Registration).where(Registration.event_id == event_id))
        ).all()
    return {r.email: (r.status.value, r.waitlist_number) for r in rows}


async def test_booking_confirms_then_waitlists_and_repeats_are_idempotent(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=1)

    first = await book(client, event.id, booking(1))
    assert first.status_code == 202
    assert first.json() == {
        "event_id": event.id,
        "email": "person1@kommun.example.se",
        "detail": "Bokningen är mottagen. Allt om den, om du har fått plats eller står i kö "
        "och länken för att avboka, kommer med e-post till person1@kommun.example.se.",
    }
    second = await book(client, event.id, booking(2))
    third = await book(client, event.id, booking(3))
    assert (second.status_code, third.status_code) == (202, 202)
    assert await registration_states(services, event.id) == {
        "person1@kommun.example.se": ("confirmed", None),
        "person2@kommun.example.se": ("waitlisted", 1),
        "person3@kommun.example.se": ("waitlisted", 2),
    }

    # The same address in other letter case: the same registration, no duplicate, and an
    # answer that says no more than a first booking does (registrations/receipt.py).
    again = await book(client, event.id, booking(1, email="PERSON1@Kommun.Example.SE"))
    assert again.status_code == 202
    assert again.json()["event_id"] == event.id
    assert "manage" not in again.text
    assert await registration_count(services) == 3

    detail = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert detail["seats_left"] == 0
    assert detail["waitlist_length"] == 2


async def test_a_new_booking_and_a_repeat_answer_alike(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Whoever knows an address learns nothing from the answer: a holder of a seat, a
    holder of a place in line and a stranger get the same status and the same body."""
    event = await make_event(services, capacity=1)
    assert (await book(client, event.id, booking(1))).status_code == 202  # has the seat
    assert (await book(client, event.id, booking(2))).status_code == 202  # first in line
    answers = []
    for n in (1, 2, 3):  # the seat holder, the one in line, a stranger (now waitlisted)
        response = await book(client, event.id, booking(n))
        varying = ("date", "content-length", "x-request-id")
        headers = {k: v for k, v in response.headers.items() if k not in varying}
        email = f"person{n}@kommun.example.se"
        answers.append((response.status_code, headers, response.text.replace(email, "ADDRESS")))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 202


async def test_a_closed_event_answers_a_holder_and_a_stranger_alike(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    assert (await book(client, event.id, booking(1))).status_code == 202
    async with services.transaction() as session:  # the organiser closes booking early
        stored = await session.get(Event, event.id)
        assert stored is not None
        stored.registration_closes_at = datetime.now(UTC) - timedelta(minutes=1)
    holder = await book(client, event.id, booking(1))
    stranger = await book(client, event.id, booking(2))
    assert holder.status_code == stranger.status_code == 409
    assert problem_of(holder) == problem_of(stranger)


async def test_cancelling_through_the_api_promotes_the_next_in_line(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=1)
    for n in (1, 2):
        assert (await book(client, event.id, booking(n))).status_code == 202
    # Each person's link is the one mailed to them.
    first = await mailed_manage_token(services, event.id, "person1@kommun.example.se")
    second = await mailed_manage_token(services, event.id, "person2@kommun.example.se")

    manage_page = await client.get(f"/manage/{second}")
    assert manage_page.status_code == 200
    assert "I kö, plats 1" in manage_page.text

    response = await client.delete(f"/api/v1/manage/{first}")
    assert response.status_code == 200
    assert response.json() == {"status": "cancelled"}

    detail = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert detail["seats_left"] == 0  # the freed seat went straight to the waitlisted person
    assert detail["waitlist_length"] == 0
    manage_page = await client.get(f"/manage/{second}")
    assert "Plats bekräftad" in manage_page.text
    assert SECRET_JOIN_URL in manage_page.text  # now confirmed, they get the join link

    # Cancelling again is harmless; the second attendee keeps the seat.
    again = await client.delete(f"/api/v1/manage/{first}")
    assert again.status_code == 200
    assert again.json() == {"status": "cancelled"}
    assert (await client.get(f"/api/v1/events/{event.id}")).json()["seats_left"] == 0

    # A cancelled person may book again: waitlisted (the seat is taken), with a new link.
    rebook = await book(client, event.id, booking(1))
    assert rebook.status_code == 202
    status, _ = (await registration_states(services, event.id))["person1@kommun.example.se"]
    assert status == "waitlisted"
    assert await mailed_manage_token(services, event.id, "person1@kommun.example.se") != first


async def test_unknown_manage_token_is_404(client: httpx.AsyncClient) -> None:
    for token in ("nonsense", "A" * 43):
        response = await client.delete(f"/api/v1/manage/{token}")
        assert response.status_code == 404
        assert problem_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param(booking(name=""), {"name"}, id="empty-name"),
        pytest.param({"email": "a@kommun.example.se", "consent": True}, {"name"}, id="no-name"),
        pytest.param(booking(email="not-an-address"), {"email"}, id="bad-email"),
        pytest.param(booking(email=""), {"email"}, id="empty-email"),
        pytest.param(booking(consent=False), {"consent"}, id="consent-false"),
        pytest.param(
            {"name": "A", "email": "a@kommun.example.se"}, {"consent"}, id="consent-missing"
        ),
        pytest.param(booking(consent="yes"), {"consent"}, id="consent-string"),
        pytest.param(booking(consent=1), {"consent"}, id="consent-number"),
        pytest.param(booking(name=5), {"name"}, id="name-number"),
        pytest.param(booking(email=["a@kommun.example.se"]), {"email"}, id="email-list"),
        pytest.param(booking(organisation={"x": 1}), {"organisation"}, id="organisation-object"),
        pytest.param(booking(name="x" * 201), {"name"}, id="name-too-long"),
        pytest.param({}, {"name", "email", "consent"}, id="empty-object"),
    ],
)
async def test_invalid_fields_are_422_with_a_message_per_field(
    services: Services, client: httpx.AsyncClient, body: dict[str, Any], fields: set[str]
) -> None:
    event = await make_event(services)
    response = await book(client, event.id, body)
    assert response.status_code == 422
    error = problem_of(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields
    assert all(isinstance(m, str) and m for m in error["fields"].values())
    assert await registration_count(services) == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        pytest.param(b"{not json", "application/json", 400, id="invalid-json"),
        pytest.param(b"[1, 2]", "application/json", 400, id="array"),
        pytest.param(b'"text"', "application/json", 400, id="string"),
        pytest.param(b"null", "application/json", 400, id="null"),
        pytest.param(b"\xff\xfe", "application/json", 400, id="not-utf8"),
        pytest.param(
            b"name=A&email=a%40kommun.example.se&consent=yes",
            "application/x-www-form-urlencoded",
            415,
            id="form",
        ),
        pytest.param(b'{"name": "A"}', "text/plain", 415, id="text-plain"),
        pytest.param(b'{"name": "A"}', "", 415, id="no-content-type"),
    ],
)
async def test_malformed_requests_are_rejected_before_booking(
    services: Services, client: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    event = await make_event(services)
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(
        f"/api/v1/events/{event.id}/registrations", content=content, headers=headers
    )
    assert response.status_code == status
    assert problem_of(response)["detail"]
    assert await registration_count(services) == 0


async def test_json_with_charset_is_accepted(services: Services, client: httpx.AsyncClient) -> None:
    event = await make_event(services)
    response = await client.post(
        f"/api/v1/events/{event.id}/registrations",
        content=json.dumps(booking()).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 202


async def test_events_not_open_for_booking_are_409_and_a_draft_is_404(
    services: Services, client: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    draft = await make_event(services, title="Utkast", publish=False)
    cancelled = await make_event(services, title="Inställt", capacity=1)
    assert (await book(client, cancelled.id, booking(8))).status_code == 202  # the seat
    assert (await book(client, cancelled.id, booking(9))).status_code == 202  # in line
    async with services.transaction() as session:
        await cancel_event(session, cancelled.id)
    mails_before = await outbox_count(services)
    # Those already booked are not told "you have a seat" (or "you are in line") again.
    for n in (8, 9):
        response = await book(client, cancelled.id, booking(n))
        assert response.status_code == 409
        assert problem_of(response)["code"] == "not_open"
    assert await outbox_count(services) == mails_before
    closed = await make_event(
        services,
        title="Stängt",
        registration_opens_at=now - timedelta(days=5),
        registration_closes_at=now - timedelta(days=1),
    )
    not_yet = await make_event(
        services, title="Inte öppet", registration_opens_at=now + timedelta(days=2)
    )
    started = await make_event(
        services,
        title="Pågår",
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=50),
    )
    for event in (cancelled, closed, not_yet, started):
        response = await book(client, event.id, booking())
        assert response.status_code == 409, event.title
        error = problem_of(response)
        assert error["code"] == "not_open"
        assert error["detail"]
    # A draft is never public: booking one answers as booking no event, as reading it does.
    as_draft = await book(client, draft.id, booking())
    as_nothing = await book(client, 999_999, booking())
    assert as_draft.status_code == as_nothing.status_code == 404
    assert problem_of(as_draft) == problem_of(as_nothing)
    assert (await client.get(f"/api/v1/events/{draft.id}")).status_code == 404
    assert await registration_count(services) == 2  # only the two from before cancelling

    # A cancelled event is still readable, marked as such, but no longer listed.
    detail = (await client.get(f"/api/v1/events/{cancelled.id}")).json()
    assert detail["status"] == "cancelled"
    listed = {e["id"] for e in (await client.get("/api/v1/events")).json()["events"]}
    assert cancelled.id not in listed
    assert draft.id not in listed


async def test_openapi_document_is_valid_and_covers_every_api_route(
    services: Services, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on an invalid OpenAPI 3.1 document

    app = create_app(services.settings, services)
    json_routes = [
        route
        for route in app.routes
        if isinstance(route, Route)
        and route.path.startswith("/api/")
        and route.path != "/api/v1/docs"  # the page for people, HTML
    ]
    assert json_routes
    routed: dict[str, set[str]] = {}  # a path may have a route per method
    for route in json_routes:
        routed.setdefault(route.path_format, set()).update((route.methods or set()) - {"HEAD"})
    for path, methods in routed.items():
        assert path in document["paths"], path
        assert methods == {m.upper() for m in document["paths"][path]}, path


async def test_openapi_document_says_what_the_server_enforces(
    services: Services, client: httpx.AsyncClient
) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    request = document["components"]["schemas"]["RegistrationRequest"]["properties"]
    assert request["name"]["minLength"] == 1
    assert request["name"]["maxLength"] == 200
    assert request["consent"]["const"] is True
    for path in ("/api/v1/events/{event_id}", "/api/v1/events/{event_id}/registrations"):
        (operation,) = document["paths"][path].values()
        (param,) = operation["parameters"]
        assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    # What the schema refuses, the server refuses; what it admits at the edges, it takes.
    event = await make_event(services)
    assert (await book(client, event.id, booking(name=""))).status_code == 422
    assert (await book(client, event.id, booking(consent=False))).status_code == 422
    assert (await client.get(f"/api/v1/events/{2**31}")).status_code == 404
    assert (await book(client, event.id, booking(name="Å" * 200))).status_code == 202
    for status in ("400", "404", "409", "413", "415", "422", "429"):
        response = document["paths"]["/api/v1/events/{event_id}/registrations"]["post"]["responses"]
        assert "application/problem+json" in response[status]["content"], status
