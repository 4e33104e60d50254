"""No input of any shape gets a 5xx: ids out of range, NUL and surrogates, deep JSON, wrong
methods; and every error answer, a 500 included, is calm and carries the security headers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.ids import MAX_ID, IdConvertor
from foundation.response_headers import SITE_HEADERS
from foundation.services import Services
from lunchkafe.app import create_app
from mail.models import OutboxMessage
from registrations.models import Registration
from tests.conftest import make_settings
from tests.factories import csrf_in, make_event
from tests.ports import free_port
from tests.signing_in import add, sign_in

SECURITY = {name.decode(): value.decode() for name, value in SITE_HEADERS}
TEXT_FIELDS = ("name", "email", "organisation", "municipality")
OUT_OF_RANGE = [2**31, 2**63, 2**64, 0, -1, "007", "1e3", "9" * 40]


@pytest.fixture
async def calm_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees a 500 as the browser would, instead of the app's exception."""
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY.items():
        if name == "referrer-policy":  # token URLs tighten it; either way it is there
            assert response.headers.get(name), (name, response.request.url)
        else:
            assert response.headers.get(name) == value, (name, response.request.url)


async def stored(services: Services) -> tuple[int, int]:
    async with services.transaction() as session:
        registrations = await session.scalar(select(func.count()).select_from(Registration))
        mails = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return registrations or 0, mails or 0


def booking(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Ada Lind",
        "email": "ada@kommun.example.se",
        "organisation": "Exempelkommun",
        "municipality": "Exempel",
        "consent": True,
    }
    return {**body, **overrides}


async def form_booking(
    client: httpx.AsyncClient, event_id: int, **overrides: str
) -> httpx.Response:
    page = await client.get(f"/events/{event_id}")
    csrf = csrf_in(page.text)
    fields = {
        "name": "Ada Lind",
        "email": "ada@kommun.example.se",
        "organisation": "Exempelkommun",
        "municipality": "Exempel",
        "consent": "yes",
        "csrf_token": csrf,
        **overrides,
    }
    return await client.post(f"/events/{event_id}/book", data=fields)


# -- ids ---------------------------------------------------------------------------------


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_the_id_pattern_takes_exactly_1_to_2_31_minus_1(number: int) -> None:
    matches = re.fullmatch(IdConvertor.regex, str(number)) is not None
    assert matches == (1 <= number <= MAX_ID)


@given(st.text(alphabet="0123456789+-e_ x", max_size=14))
def test_the_id_pattern_takes_only_canonical_decimals(text: str) -> None:
    if re.fullmatch(IdConvertor.regex, text):
        assert str(int(text)) == text
        assert 1 <= int(text) <= MAX_ID


def id_routes(services: Services) -> list[tuple[str, str]]:
    """(method, path with {} for the id) of every route with a row id in its path, read
    from the app's route table, so a new route is covered without being listed."""
    app = create_app(services.settings, services)
    found = set()
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        ids = [n for n in route.param_convertors if n.endswith("_id") and n != "message_id"]
        if not ids:
            continue  # (message_id: the mailbox's files, not rows)
        for name in ids:
            assert isinstance(route.param_convertors[name], IdConvertor), route.path
        path = route.path
        for name in route.param_convertors:
            # The first id takes the value tried; any other parameter a value that exists.
            placeholder = "{}" if name == ids[0] else "1"
            path = re.sub(r"\{" + name + r"(:[a-z]+)?\}", placeholder, path)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            found.add((method, path))
    return sorted(found)


def test_every_row_id_in_a_path_is_an_id(services: Services) -> None:
    routes = id_routes(services)
    assert ("GET", "/events/{}") in routes
    assert ("POST", "/api/v1/events/{}/registrations") in routes
    assert len(routes) > 20


async def test_ids_out_of_range_are_404_on_every_id_route(
    services: Services, calm_client: httpx.AsyncClient
) -> None:
    await make_event(services)
    for method, path in id_routes(services):
        for value in [*OUT_OF_RANGE, MAX_ID]:
            url = path.format(value)
            kwargs: dict[str, Any] = {}
            if url.startswith("/api/") and method in ("POST", "PATCH"):
                kwargs["json"] = booking()
            response = await calm_client.request(method, url, **kwargs)
            if value == MAX_ID and url.startswith(("/organiser/", "/api/v1/organiser/")):
                # In range: who asks is checked first (the sign-in page, or the API's token).
                assert response.status_code in (303, 401), (url, response.status_code)
                continue
            if value == MAX_ID and method == "POST" and not url.startswith("/api/"):
                # In range but no such event: the form's CSRF check comes first.
                assert response.status_code in (403, 404), url
                continue
            assert response.status_code == 404, (method, url, response.status_code)
            assert_secured(response)
            if url.startswith("/api/"):
                assert response.headers["content-type"] == "application/problem+json"
            else:
                assert "finns inte" in response.text or "ingen sida" in response.text
    assert await stored(services) == (0, 0)


# -- text that is not text ---------------------------------------------------------------


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_nul_in_each_api_text_field_is_a_422_field_error(
    services: Services, calm_client: httpx.AsyncClient, field: str
) -> None:
    event = await make_event(services)
    response = await calm_client.post(
        f"/api/events/{event.id}/registrations", json=booking(**{field: "Ada\x00Lind"})
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {field}
    assert await stored(services) == (0, 0)


async def test_a_member_name_the_client_made_up_is_never_named_back(
    services: Services, calm_client: httpx.AsyncClient
) -> None:
    """A 422 names only the booking's own fields: a made-up member name could carry any
    words ("Ring support på …") into a client that shows the answer to its user."""
    event = await make_event(services)
    made_up = "Kontakta support på evil.example"
    raw = json.dumps({**booking(), made_up: "x \ud800"}).encode()
    response = await calm_client.post(
        f"/api/v1/events/{event.id}/registrations",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert made_up not in response.text
    assert await stored(services) == (0, 0)


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_nul_in_each_form_field_is_a_message_next_to_the_field(
    services: Services, calm_client: httpx.AsyncClient, field: str
) -> None:
    event = await make_event(services)
    response = await form_booking(calm_client, event.id, **{field: "Ada\x00Lind"})
    assert response.status_code == 422
    assert_secured(response)
    assert await stored(services) == (0, 0)


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_a_lone_surrogate_in_json_is_a_422_field_error(
    services: Services, calm_client: httpx.AsyncClient, field: str
) -> None:
    event = await make_event(services)
    raw = json.dumps(booking(**{field: "Ada \ud800 Lind"})).encode()
    assert b"\\ud800" in raw
    response = await calm_client.post(
        f"/api/events/{event.id}/registrations",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {field}
    assert await stored(services) == (0, 0)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"name": "Ada", "\\ud800": 1}', id="surrogate-name"),
        pytest.param(b'{"name": "Ada", "tags": ["\\udfff"]}', id="surrogate-nested"),
        pytest.param(b'{"consent": false, "consent": true}', id="duplicate-member"),
        pytest.param(b'{"consent": NaN}', id="nan"),
        pytest.param(b'{"consent": 1e999}', id="infinity-by-size"),
        pytest.param(b'{"n": ' + b"1" * 5000 + b"}", id="5000-digits"),
    ],
)
async def test_json_that_is_not_i_json_is_a_400(
    services: Services, calm_client: httpx.AsyncClient, raw: bytes
) -> None:
    event = await make_event(services)
    response = await calm_client.post(
        f"/api/events/{event.id}/registrations",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_json"
    assert await stored(services) == (0, 0)


# -- deep JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100k-deep"),
        pytest.param(b"[" * 9_999 + b"]" * 9_999, id="10k-deep-under-the-limit"),
        pytest.param(b"[" * 19_999, id="unclosed-under-the-limit"),
        pytest.param(b'{"a":' * 3_000 + b"1" + b"}" * 3_000, id="objects-under-the-limit"),
    ],
)
async def test_deeply_nested_json_is_refused_calmly(
    services: Services, calm_client: httpx.AsyncClient, raw: bytes
) -> None:
    event = await make_event(services)
    response = await calm_client.post(
        f"/api/events/{event.id}/registrations",
        content=raw,
        headers={"content-type": "application/json"},
    )
    # Under the size limit the parser refuses it; over it (100k) the body limit does.
    assert response.status_code in (400, 413)
    assert response.headers["content-type"] == "application/problem+json"
    assert_secured(response)
    assert await stored(services) == (0, 0)


def test_the_parser_refuses_json_nested_100_000_deep() -> None:
    from foundation.json_body import BodyRefused, parse_json_object

    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        with pytest.raises(BodyRefused) as refused:
            parse_json_object(raw)
        assert refused.value.status == 400


# -- 405 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/", {"GET", "HEAD"}),
        ("DELETE", "/events/{id}", {"GET", "HEAD"}),
        ("GET", "/events/{id}/book", {"POST"}),
        ("POST", "/api/events", {"GET", "HEAD"}),
        ("PUT", "/api/events/{id}", {"GET", "HEAD"}),
        ("GET", "/api/events/{id}/registrations", {"POST"}),
        ("GET", "/api/manage/" + "A" * 43, {"DELETE"}),
    ],
)
async def test_405_says_which_methods_are_allowed(
    services: Services,
    calm_client: httpx.AsyncClient,
    method: str,
    path: str,
    allowed: set[str],
) -> None:
    event = await make_event(services)
    response = await calm_client.request(method, path.format(id=event.id))
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    assert_secured(response)
    if path.startswith("/api/"):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 405
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "Method Not Allowed" not in response.text


# -- 500 -----------------------------------------------------------------------------------


async def test_an_exception_on_a_page_is_a_calm_500_with_the_security_headers(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: Request) -> Response:
        await request.body()
        raise RuntimeError("the failure itself")

    app = create_app(services.settings, services)
    app.router.routes.append(Route("/boom/{token}", boom, methods=["GET", "POST"]))
    app.router.routes.append(Route("/api/boom/{token}", boom, methods=["POST"]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    caplog.set_level(logging.ERROR)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.post("/boom/tok-SECRET-1", data={"name": "Body Secret"})
        api = await client.post("/api/boom/tok-SECRET-2", json={"name": "Body Secret"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Något gick fel" in page.text
    assert "RuntimeError" not in page.text
    assert "Traceback" not in page.text
    assert_secured(page)
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "server_error"
    assert_secured(api)
    # Logged once per request, with the traceback, without the body or the token.
    errors = [r for r in caplog.records if r.name == "lunchkafe.errors"]
    assert len(errors) == 2
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in errors)
    assert "Body Secret" not in caplog.text
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)
async def test_when_even_the_error_page_fails_the_plain_500_keeps_the_headers(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("the failure itself")

    async def broken_error_page(request: Request, exc: Exception) -> Response:
        raise RuntimeError("the error page failed too")

    settings = make_settings(
        services.settings.database_url, tmp_path, BASE_URL="https://lunchkafe.example.se"
    )
    app = create_app(settings, services)
    app.router.routes.append(Route("/manage/{token}/boom", boom))
    app.router.routes.append(Route("/boom", boom))
    app.exception_handlers[Exception] = broken_error_page  # read when the stack is built
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    caplog.set_level(logging.ERROR)
    app.router.routes.append(Route("/api/boom", boom))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        private = await client.get("/manage/tok-SECRET/boom")
        public = await client.get("/boom")
        api = await client.get("/api/boom")
    # The visitor's language is not known down here, so the page says it in both.
    for response in (private, public):
        assert response.text.splitlines() == [
            "Något gick fel hos oss. Försök igen om en stund.",
            "Something went wrong on our side. Please try again in a moment.",
        ]
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 500
    assert api.json()["code"] == "server_error"
    for response in (private, public, api):
        assert response.status_code == 500
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["strict-transport-security"].startswith("max-age=")
    assert private.headers["cache-control"] == "private, no-store"
    assert private.headers["referrer-policy"] == "no-referrer"
    assert public.headers["referrer-policy"] == "same-origin"
    assert "SECRET" not in caplog.text


async def test_a_database_that_has_gone_away_is_a_calm_503_to_retry(tmp_path: Path) -> None:
    """Issue 13: nothing answers on the database's port, so pages and the API say the
    service is away for a moment (503 with Retry-After, RFC 9110 §10.2.3), not a 500."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    gone = Services.build(make_settings(url, tmp_path))
    app = create_app(gone.settings, gone)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            page = await c.get("/")
            api = await c.get("/api/events")
    finally:
        await gone.close()
    assert page.status_code == 503
    assert "Tjänsten är tillfälligt otillgänglig" in page.text
    assert int(page.headers["retry-after"]) > 0
    assert_secured(page)
    assert api.status_code == 503
    assert api.headers["content-type"] == "application/problem+json"
    assert int(api.headers["retry-after"]) > 0
    assert_secured(api)


async def test_unknown_pages_and_api_paths_are_calm_404s(calm_client: httpx.AsyncClient) -> None:
    page = await calm_client.get("/no/such/page")
    assert page.status_code == 404
    assert "Sidan finns inte" in page.text
    assert "Not Found" not in page.text
    assert_secured(page)
    api = await calm_client.get("/api/no/such/thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"
    assert_secured(api)


async def test_a_broken_form_body_is_a_400_on_every_form(
    services: Services, calm_client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    # Signed in as an admin, so the workspace's forms are read too (else the gate answers
    # first, sending the anonymous to sign in).
    await add(services, "admin@myndigheten.example.se", role="admin")
    assert (await sign_in(calm_client, "admin@myndigheten.example.se")).status_code == 303
    app = create_app(services.settings, services)
    forms = [
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and "POST" in (route.methods or ())
        and "/api/" not in route.path
    ]
    assert forms
    for path in forms:
        url = re.sub(r"\{[^}]*\}", str(event.id), path)
        for body in (b"%00", b"--x\r\nnot a part", b"\xed\xa0\x80--"):
            response = await calm_client.post(
                url, content=body, headers={"content-type": "multipart/form-data; boundary=x"}
            )
            assert response.status_code == 400, (url, body)
            assert_secured(response)
    assert await stored(services) == (0, 0)
