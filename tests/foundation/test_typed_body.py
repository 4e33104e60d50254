"""Organiser API bodies hold only what their model declares (foundation.typed_body.validated),
and single-line text holds no invisible format characters (foundation.text.clean_line)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.services import Services
from foundation.text import TextRefused, clean_line
from lunchkafe.app import create_app
from tests.conftest import Mail
from tests.factories import SOON, make_event
from tests.signing_in import API, add, bearer, token_for

NEW = {
    "title": "Kafé",
    "starts_at": SOON.isoformat(),
    "ends_at": (SOON + timedelta(hours=1)).isoformat(),
    "capacity": 10,
    "join_url": "https://meet.example.se/rum",
}


async def api(mail: Mail) -> tuple[httpx.AsyncClient, dict[str, str]]:
    anna = await add(mail.services, "anna@myndigheten.example.se")
    auth = bearer(await token_for(mail.services, anna))
    app = create_app(mail.services.settings, mail.services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t"), auth


async def test_unknown_members_are_refused_by_name_on_every_organiser_body(
    services: Services, mail: Mail
) -> None:
    """{"extra": 1} on POST /api/v1/organiser/events answered 201."""
    event = await make_event(services)
    client, auth = await api(mail)
    async with client:
        for method, path, body in (
            ("POST", f"{API}/events", NEW),
            ("PATCH", f"{API}/events/{event.id}", {"capacity": 30}),
            (
                "POST",
                f"{API}/events/{event.id}/messages",
                {"subject": "Hej", "body": "Hej", "to": "all"},
            ),
            ("POST", f"{API}/events/{event.id}/cancel", {}),
        ):
            answer = await client.request(method, path, headers=auth, json={**body, "extra": 1})
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["fields"] == {"extra": "Okänt fält."}, path
        created = await client.post(f"{API}/events", headers=auth, json=NEW)
        assert created.status_code == 201
        document = (await client.get("/api/v1/openapi.json")).json()
        new_event = document["components"]["schemas"]["NewEvent"]
        assert new_event["additionalProperties"] is False


async def test_a_title_with_a_zero_width_space_or_bom_is_stored_without_it(
    services: Services, mail: Mail
) -> None:
    client, auth = await api(mail)
    async with client:
        created = await client.post(
            f"{API}/events", headers=auth, json={**NEW, "title": "\ufeffKa\u200bfé\u2060"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["title"] == "Kafé"
        invisible = await client.post(
            f"{API}/events", headers=auth, json={**NEW, "title": "\u200b"}
        )
        assert invisible.status_code == 422


@given(st.text(st.characters(categories=["Cf", "Ll", "Zs"]), max_size=30))
def test_no_single_line_keeps_an_invisible_format_character(text: str) -> None:
    try:
        line = clean_line(text, max_length=100)
    except TextRefused:  # a bidi control is refused outright, as before
        return
    # Only the joiners that shape emoji and some scripts stay, never on their own.
    assert all(c in "\u200c\u200d" for c in line if unicodedata.category(c) == "Cf")
    assert not line or any(unicodedata.category(c) != "Cf" and not c.isspace() for c in line)


@pytest.mark.parametrize("kept", ["👩\u200d💻 Kafé", "می\u200cخواهم"])
def test_joiners_inside_words_are_kept(kept: str) -> None:
    assert clean_line(kept, max_length=100) == kept
