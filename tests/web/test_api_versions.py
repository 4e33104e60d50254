"""The API's contract as served: /api/v1/ and its unversioned aliases, the OpenAPI document read
off the route table, CORS on the public reads only, and the documentation page."""

from __future__ import annotations

from html import escape
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from foundation.services import Services
from foundation.typed_body import MSG_BOOLEAN, MSG_STRING
from registrations.errors import MSG_NAME_REQUIRED
from tests.factories import mailed_manage_token, make_event

ORIGIN = {"origin": "https://kommun.example.se"}
V1_PATHS = {
    "/api/v1/events": {"get"},
    "/api/v1/events/{event_id}": {"get"},
    "/api/v1/events/{event_id}/registrations": {"post"},
    "/api/v1/manage/{token}": {"delete"},
    "/api/v1/openapi.json": {"get"},
}
# Added after the first version: at /api/v1/ only, each behind an organiser's access token.
V1_ONLY_PATHS = {
    "/api/v1/organiser/events": {"get", "post"},
    "/api/v1/organiser/events/{event_id}": {"get", "patch"},
    "/api/v1/organiser/events/{event_id}/cancel": {"post"},
    "/api/v1/organiser/events/{event_id}/registrations": {"get"},
    "/api/v1/organiser/events/{event_id}/messages": {"post"},
    "/api/v1/organiser/sends/{send_id}": {"get"},
    "/api/v1/organiser/guide/proposals/{proposal_id}/approve": {"post"},
    "/api/v1/organiser/guide/proposals/{proposal_id}/reject": {"post"},
}
# Routes added after the first version that anyone may call (no token, no alias).
V1_ONLY_PUBLIC_PATHS = {"/api/v1/guide/proposals": {"post"}, "/api/v1/guide/examples": {"get"}}
VARYING = ("date", "content-length", "x-request-id")


def booking(n: int) -> dict[str, Any]:
    return {"name": f"Person {n}", "email": f"person{n}@kommun.example.se", "consent": True}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def same(response: httpx.Response) -> tuple[int, dict[str, str], str]:
    """What two answers must share to count as the same answer."""
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    return response.status_code, headers, response.text


async def test_the_document_is_openapi_31_with_every_path_and_its_alias(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)  # raises on what OpenAPI 3.1 does not allow
    assert {p: set(item) for p, item in document["paths"].items() if "/v1/" in p} == (
        V1_PATHS | V1_ONLY_PATHS | V1_ONLY_PUBLIC_PATHS
    )
    for path, methods in V1_PATHS.items():
        alias = path.replace("/api/v1/", "/api/", 1)
        for method in methods:
            old, new = document["paths"][alias][method], document["paths"][path][method]
            assert old["deprecated"] is True
            assert old["x-alias-of"] == path
            assert "deprecated" not in new
            assert old["responses"] == new["responses"]
            assert old.get("requestBody") == new.get("requestBody")
    assert len(document["paths"]) == (
        2 * len(V1_PATHS) + len(V1_ONLY_PATHS) + len(V1_ONLY_PUBLIC_PATHS)
    )
    scheme = document["components"]["securitySchemes"]["organiserToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, methods in V1_ONLY_PATHS.items():
        assert path.replace("/api/v1/", "/api/", 1) not in document["paths"]
        for method in methods:
            operation = document["paths"][path][method]
            assert operation["security"] == [{"organiserToken": []}]
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    public = [
        document["paths"][path][method]
        for path, ms in (V1_PATHS | V1_ONLY_PUBLIC_PATHS).items()
        for method in ms
    ]
    assert not any("security" in operation for operation in public)
    # The old address of the document serves the same document.
    assert (await client.get("/api/openapi.json")).json() == document


async def test_the_document_keeps_what_the_server_enforces(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    body = schemas["RegistrationRequest"]
    assert set(body["required"]) == {"name", "email", "consent"}
    assert body["properties"]["organisation"]["maxLength"] == 200
    assert body["properties"]["email"]["maxLength"] == 254
    problem = schemas["Problem"]
    assert {"type", "title", "status", "detail", "code", "fields", "error"} <= set(
        problem["properties"]
    )
    assert set(problem["required"]) == {"title", "status", "detail", "code", "error"}
    (parameter,) = document["paths"]["/api/v1/manage/{token}"]["delete"]["parameters"]
    assert parameter["schema"] == {"type": "string", "minLength": 1}
    retry = document["paths"]["/api/v1/events/{event_id}/registrations"]["post"]["responses"]
    assert retry["429"]["headers"]["Retry-After"]["required"] is True


async def test_v1_and_the_alias_answer_the_same(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=5)
    for path in ("/events", f"/events/{event.id}", "/events/999999", "/events/0"):
        v1, alias = await client.get(f"/api/v1{path}"), await client.get(f"/api{path}")
        assert same(v1) == same(alias), path
    # Booking: a new booking and a repeat answer alike, whichever path each goes to.
    first = await client.post(f"/api/v1/events/{event.id}/registrations", json=booking(1))
    repeat = await client.post(f"/api/events/{event.id}/registrations", json=booking(1))
    assert first.status_code == 202
    assert same(first) == same(repeat)
    refused = [
        await client.post(f"{prefix}/events/{event.id}/registrations", json={"name": 5})
        for prefix in ("/api/v1", "/api")
    ]
    assert refused[0].status_code == 422
    assert same(refused[0]) == same(refused[1])
    # Cancelling: once through v1, again through the alias (already cancelled: the same).
    token = await mailed_manage_token(services, event.id, "person1@kommun.example.se")
    cancelled = await client.delete(f"/api/v1/manage/{token}")
    again = await client.delete(f"/api/manage/{token}")
    assert cancelled.json() == {"status": "cancelled"}
    assert same(cancelled) == same(again)


async def test_the_cancel_url_is_kept_out_of_caches_and_referers(
    services: Services, client: httpx.AsyncClient
) -> None:
    for response in (
        await client.delete("/api/v1/manage/" + "A" * 43),
        await client.delete("/api/manage/" + "A" * 43),
    ):
        assert response.status_code == 404
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_public_reads_send_cors_headers(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    for path in (
        "/api/v1/events",
        f"/api/v1/events/{event.id}",
        "/api/v1/events/999999",  # a 404 problem is readable too
        "/api/v1/events/abc",  # so is one for an id that is no id
        "/api/v1/events/0",
        "/api/v1/openapi.json",
        "/api/events",
        f"/api/events/{event.id}",
        "/api/openapi.json",
    ):
        for method in ("GET", "HEAD"):
            response = await client.request(method, path, headers=ORIGIN)
            assert response.headers["access-control-allow-origin"] == "*", (method, path)
            assert "access-control-allow-credentials" not in response.headers
        # Without Origin (a server, not a browser) the answer is the same.
        assert (await client.get(path)).headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/events/{id}", "/api/v1/openapi.json"])
async def test_a_preflight_for_a_public_read_is_answered(
    services: Services, client: httpx.AsyncClient, path: str
) -> None:
    event = await make_event(services)
    response = await client.options(
        path.format(id=event.id),
        headers={
            **ORIGIN,
            "access-control-request-method": "GET",
            "access-control-request-headers": "accept-language",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "HEAD"}
    assert "accept-language" in response.headers["access-control-allow-headers"].lower()
    assert response.content == b""
    # An OPTIONS that is no preflight is left to the router: 405, as for any other method.
    plain = await client.options(path.format(id=event.id))
    assert plain.status_code == 405
    assert "access-control-allow-origin" not in plain.headers


async def test_booking_and_cancelling_send_no_cors_headers(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    for prefix in ("/api/v1", "/api"):
        book = f"{prefix}/events/{event.id}/registrations"
        booked = await client.post(book, json=booking(1), headers=ORIGIN)
        refused = await client.post(book, json={}, headers=ORIGIN)
        preflight = await client.options(
            book,
            headers={
                **ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        token = await mailed_manage_token(services, event.id, "person1@kommun.example.se")
        cancel = f"{prefix}/manage/{token}"
        cancel_preflight = await client.options(
            cancel, headers={**ORIGIN, "access-control-request-method": "DELETE"}
        )
        cancelled = await client.delete(cancel, headers=ORIGIN)
        assert (booked.status_code, refused.status_code, cancelled.status_code) == (202, 422, 200)
        assert (preflight.status_code, cancel_preflight.status_code) == (405, 405)
        for response in (booked, refused, preflight, cancel_preflight, cancelled):
            assert cors_headers(response) == {}, response.request.url
    # Pages are no API: no CORS there either.
    for path in ("/", "/api/v1/docs"):
        assert cors_headers(await client.get(path, headers=ORIGIN)) == {}


async def test_wrong_json_types_get_swedish_field_messages(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    response = await client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": None, "email": 5, "organisation": [], "consent": 1},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["fields"] == {
        "name": MSG_NAME_REQUIRED,  # null counts as absent: the domain's rule speaks
        "email": MSG_STRING,
        "organisation": MSG_STRING,
        "consent": MSG_BOOLEAN,
    }
    assert response.json()["error"]["fields"] == response.json()["fields"]


@pytest.mark.parametrize(
    ("language", "heading"), [("sv", "API-dokumentation"), ("en", "API documentation")]
)
async def test_the_documentation_page_shows_every_operation_and_schema(
    client: httpx.AsyncClient, language: str, heading: str
) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    response = await client.get(f"/api/v1/docs?lang={language}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f'<html lang="{language}">' in page
    assert f"<h1>{heading}</h1>" in page
    assert 'href="/api/v1/openapi.json"' in page
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert escape(f"{method.upper()} {path}") in page, (method, path)
            assert escape(operation["summary"], quote=False) in page
            for status in operation["responses"]:
                assert f'<th scope="row">{status}</th>' in page
    for name, schema in document["components"]["schemas"].items():
        assert f'id="schema-{name}"' in page
        for member in schema.get("properties", {}):
            assert f"<code>{member}</code>" in page, (name, member)
    assert "RFC 9457" in page
    assert "<script" not in page
    assert "http://" not in page.replace("http://testserver", "")  # no third-party files


async def test_the_documentation_page_reads_as_prose_with_examples(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/api/v1/docs")).text
    # Backticked words in the document's texts are set as code, not shown with backticks.
    assert "`" not in page
    assert "<code>detail</code> says why" in page
    # The request body's example, as JSON a person can copy.
    assert "&#34;consent&#34;: true" in page or "&quot;consent&quot;: true" in page
    # No module names of the code leak into what integrators read.
    assert "registrations." not in page
    # Every page links to it.
    home = (await client.get("/")).text
    assert 'href="/api/v1/docs"' in home
