"""Schemathesis against the JSON API, in-process, on SQLite and PostgreSQL.

The OpenAPI document is the one the app serves at /api/v1/openapi.json (built from its routes
and models, foundation.openapi), fetched from the app under test; the deprecated unversioned
aliases are in it and are tested as well. Requests are generated from it (valid and invalid
ones, boundary values first, then random ones, with a fixed seed), sent to the app through
httpx's ASGI transport,
and each answer is held to the document: never a 5xx, the documented status, content type,
headers and body, invalid data refused, 405 with `Allow` for undocumented methods; and a
refused request (4xx) stores nothing: no registration, no outbox row. The organiser API is
driven with an admin's access token (`Authorization: Bearer`, which its operations declare).

The app runs on its own event loop in a thread (an anyio blocking portal), so schemathesis'
synchronous hypothesis test can drive it; the app's Services are built and used on that loop
only. Rate limits are off here: they would turn most bookings into 429 and hide the rest.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from schemathesis import checks
from sqlalchemy import func, select

from foundation.ids import MAX_ID
from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from mail.models import OutboxMessage
from organisers import accounts
from organisers import tokens as organiser_tokens
from registrations.messaging import send_reminder_now
from registrations.models import AttendeeFeed, Registration
from registrations.organising import cancel_event
from tests.conftest import make_settings
from tests.factories import SOON, mailed_manage_token, make_event


async def served_document() -> dict[str, Any]:
    """The document as the app serves it at /api/v1/openapi.json. It is built from the routes
    alone: no database is opened, and the app is not started (ASGITransport has no lifespan)."""
    with tempfile.TemporaryDirectory() as var:
        settings = make_settings(f"sqlite+aiosqlite:///{var}/unused.sqlite3", Path(var))
        own = Services.build(settings)
        transport = httpx.ASGITransport(app=create_app(settings, own))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                response = await c.get("/api/v1/openapi.json")
        finally:
            await own.close()
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


DOCUMENT = anyio.run(served_document)
schema = schemathesis.openapi.from_dict(DOCUMENT)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.unsupported_method,  # 405 with Allow for a method the document does not list
]
# Enough for the boundary phase (ids 0 and 2**31, empty and over-long text, wrong types)
# and a few hundred random requests per database: about half a minute for the file.
EXAMPLES = 150

# Filled by the fixture, read by the hooks: generated ids and tokens are sometimes replaced
# by real ones, so successful bookings and cancellations are generated too, not only 404s.
KNOWN: dict[str, list[Any]] = {"ids": [], "tokens": [], "sends": [], "bearer": []}
ORGANISER_API = "/api/v1/organiser/"


@schema.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:  # operations without path parameters
        return path_parameters
    value = path_parameters.get("event_id")
    if isinstance(value, int) and 1 <= value <= MAX_ID and value % 3 and KNOWN["ids"]:
        path_parameters["event_id"] = KNOWN["ids"][value % len(KNOWN["ids"])]
    send = path_parameters.get("send_id")
    if isinstance(send, int) and 1 <= send <= MAX_ID and send % 3 and KNOWN["sends"]:
        path_parameters["send_id"] = KNOWN["sends"][send % len(KNOWN["sends"])]
    token = path_parameters.get("token")
    if isinstance(token, str) and len(token) % 2 and KNOWN["tokens"]:
        path_parameters["token"] = KNOWN["tokens"][len(token) % len(KNOWN["tokens"])]
    return path_parameters


@dataclass
class Api:
    portal: BlockingPortal
    client: httpx.AsyncClient
    services: Services

    def send(self, case: Any) -> httpx.Response:
        sent = case.as_transport_kwargs(base_url="http://testserver")
        assert not sent.get("cookies"), "the document declares no cookies"
        content: bytes | None = None
        if "json" in sent:
            # ASCII escapes, as many clients send them: a lone surrogate goes out as \ud800.
            content = json.dumps(sent["json"]).encode()
        elif sent.get("data") is not None:
            data = sent["data"]
            content = data if isinstance(data, bytes) else str(data).encode()
        headers = dict(sent["headers"] or {})
        # A generated bearer token is made a real one; a case without the header (the
        # document requires it) goes without, and must be refused.
        given = [name for name in headers if name.lower() == "authorization"]
        if ORGANISER_API in sent["url"] and given:
            headers[given[0]] = f"Bearer {KNOWN['bearer'][0]}"
        request = self.client.build_request(
            sent["method"],
            sent["url"],
            headers=headers,
            params=sent.get("params"),
            content=content,
        )
        return self.portal.call(self.client.send, request)

    def stored(self) -> tuple[int, int, int]:
        return self.portal.call(_stored, self.services)


async def _stored(services: Services) -> tuple[int, int, int]:
    """Rows a booking can write: registrations, mails, and the address's personal feed."""
    async with services.transaction() as session:
        registrations = await session.scalar(select(func.count()).select_from(Registration))
        mails = await session.scalar(select(func.count()).select_from(OutboxMessage))
        feeds = await session.scalar(select(func.count()).select_from(AttendeeFeed))
    return registrations or 0, mails or 0, feeds or 0


async def _seed(services: Services, client: httpx.AsyncClient) -> None:
    """An open event, a full one, a cancelled one, a draft; two bookings to cancel."""
    open_event = await make_event(services, title="Öppet", capacity=50)
    later = {"starts_at": SOON + timedelta(days=1), "ends_at": SOON + timedelta(days=1, hours=1)}
    full = await make_event(services, title="Fullt", capacity=1, **later)
    cancelled = await make_event(services, title="Inställt", **later)
    draft = await make_event(services, title="Utkast", publish=False)
    tokens = []
    for n, event in enumerate((open_event, full)):
        response = await client.post(
            f"/api/v1/events/{event.id}/registrations",
            json={"name": f"Person {n}", "email": f"p{n}@kommun.example.se", "consent": True},
        )
        assert response.status_code == 202
        tokens.append(await mailed_manage_token(services, event.id, f"p{n}@kommun.example.se"))
    async with services.transaction() as session:
        await cancel_event(session, cancelled.id)
        send = await send_reminder_now(session, open_event.id)
        admin = await accounts.add_organiser(
            session,
            email="admin@myndigheten.example.se",
            name="Admin",
            role="admin",
            password=None,
            now=utcnow(),
        )
        bearer = await organiser_tokens.create_token(session, admin, "Schemathesis", utcnow())
    KNOWN["ids"] = [open_event.id, full.id, cancelled.id, draft.id]
    KNOWN["tokens"] = tokens
    KNOWN["sends"] = [send.id]
    KNOWN["bearer"] = [bearer.secret]


@pytest.fixture
def api(services: Services, tmp_path: Path) -> Iterator[Api]:
    """The app on a database the `services` fixture has just emptied, on a loop of its own."""
    settings = make_settings(
        services.settings.database_url,
        tmp_path,
        BOOKING_RATE_LIMIT="off",
        BOOKING_RATE_LIMIT_PER_EMAIL="off",
    )
    own = Services.build(settings)
    app = create_app(settings, own)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    with start_blocking_portal() as portal:
        portal.call(_seed, own, client)
        # The app under test serves the document the requests are generated from.
        assert portal.call(client.get, "/api/v1/openapi.json").json() == DOCUMENT
        try:
            yield Api(portal, client, own)
        finally:
            portal.call(client.aclose)
            portal.call(own.close)
            KNOWN.update(ids=[], tokens=[], sends=[], bearer=[])


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests on every run
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_holds_to_its_document(case: Any, api: Api) -> None:
    before = api.stored()
    response = api.send(case)
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        assert api.stored() == before, "a refused request stored something"
