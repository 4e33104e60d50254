"""The booking API remembers the language a booking is made in: the `language` member, else
the request's Accept-Language (RFC 9110 §12.5.4), else the site's default; anything else
in `language` is refused with a 422 problem naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from foundation.i18n import accepted_language
from foundation.services import Services
from registrations.errors import MSG_LANGUAGE
from tests.factories import make_event, registration_of


def booking(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"Person {n}",
        "email": f"person{n}@kommun.example.se",
        "consent": True,
        **extra,
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9,sv;q=0.5", "en"),
        ("sv-SE, en;q=0.8", "sv"),
        ("de, en;q=0.2", "en"),
        ("sv;q=0, en", "en"),
        ("fr, de;q=0.8", None),
        ("*", None),
        ("", None),
        ("en;q=abc, sv", "sv"),
        ("EN", "en"),
    ],
)
def test_accept_language_picks_the_most_wanted_of_ours(header: str, expected: str | None) -> None:
    assert accepted_language(header) == expected


async def test_a_booking_is_in_the_language_asked_for(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    path = f"/api/v1/events/{event.id}/registrations"
    asked = [
        (booking(1), {"Accept-Language": "en-GB,en;q=0.9,sv;q=0.5"}, "en"),
        (booking(2, language="en"), {"Accept-Language": "sv"}, "en"),
        (booking(3, language="sv"), {"Accept-Language": "en"}, "sv"),
        (booking(4), {"Accept-Language": "fr, de;q=0.8"}, "sv"),  # the site's default
        (booking(5), {}, "sv"),
    ]
    for body, headers, language in asked:
        answer = await client.post(path, json=body, headers=headers)
        assert answer.status_code == 202, answer.text
        registration = await registration_of(services, event.id, body["email"])
        assert registration.language == language, body


@pytest.mark.parametrize("language", ["fr", "EN", "", "sv-SE", 5, True])
async def test_another_language_is_refused_with_a_clear_problem(
    services: Services, client: httpx.AsyncClient, language: object
) -> None:
    event = await make_event(services)
    answer = await client.post(
        f"/api/v1/events/{event.id}/registrations", json=booking(1, language=language)
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["fields"] == {"language": MSG_LANGUAGE}
    with pytest.raises(AssertionError, match="no registration"):
        await registration_of(services, event.id, "person1@kommun.example.se")


async def test_the_document_names_the_languages(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    member = document["components"]["schemas"]["RegistrationRequest"]["properties"]["language"]
    assert {"enum": ["sv", "en"], "type": "string"} in member["anyOf"]
    assert "Accept-Language" in member["description"]
