"""Text that is not text is refused at every door an attendee or organiser types into.

The booking form, the JSON API and organisers' messages, on SQLite and PostgreSQL: each
refusal says which field and why, keeps nothing, and real names in any script go through
unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from foundation.services import Services
from foundation.text import MSG_CONTROL, MSG_ENCODED_WORD, MSG_NO_LETTER
from mail.models import Audience, OrganiserSend
from registrations import errors
from registrations.messaging import send_message
from registrations.models import Registration
from tests.factories import csrf_in, make_event

ISSUE_NAME = "=?utf-8?q?Support=0D=0AReply-To=3A_attacker=40evil.example=0D=0AX-Injected=3A_yes?="

BAD_NAMES = [
    pytest.param("Anna\x1b[31mBerg", MSG_CONTROL, id="ESC"),
    pytest.param("Anna Berg\x07", MSG_CONTROL, id="BEL"),
    pytest.param("Anna\x7fBerg", MSG_CONTROL, id="DEL"),
    pytest.param("Anna \u202egreB", MSG_CONTROL, id="RLO-U+202E"),
    pytest.param("Anna\x00Berg", MSG_CONTROL, id="NUL"),
    pytest.param("\u200b\u200c\u200d", MSG_NO_LETTER, id="zero-width-only"),
    pytest.param("-- . --", MSG_NO_LETTER, id="punctuation-only"),
    pytest.param(ISSUE_NAME, MSG_ENCODED_WORD, id="encoded-word"),
    pytest.param("=?utf-8?q?a b=0D=0ABcc:=20x@evil.example?=", MSG_ENCODED_WORD, id="spaced-ew"),
]
GOOD_NAMES = ["Máret Ánde Sárá", "محمد عبد الله", "王小明", "Anna 🌻 Berg", "Zoë O'Brien"]


def booking(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Anna Berg",
        "email": "anna.berg@kommun.example.se",
        "organisation": "Exempelkommun",
        "municipality": "Kiruna",
        "consent": True,
    }
    body.update(overrides)
    return body


async def registration_count(services: Services) -> int:
    async with services.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Registration)) or 0)


async def post_json(client: httpx.AsyncClient, event_id: int, body: dict[str, Any]) -> Any:
    # json.dumps escapes a lone surrogate as \ud800, as any client's JSON encoder would.
    return await client.post(
        f"/api/events/{event_id}/registrations",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )


async def post_form(client: httpx.AsyncClient, event_id: int, body: dict[str, Any]) -> Any:
    page = await client.get(f"/events/{event_id}")
    csrf = csrf_in(page.text)
    form = {key: value for key, value in body.items() if key != "consent"}
    return await client.post(
        f"/events/{event_id}/book", data={**form, "consent": "yes", "csrf_token": csrf}
    )


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
async def test_the_api_refuses_a_name_that_is_not_text(
    services: Services, client: httpx.AsyncClient, name: str, message: str
) -> None:
    event = await make_event(services)
    response = await post_json(client, event.id, booking(name=name))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"name": message}
    assert await registration_count(services) == 0


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
async def test_the_form_refuses_a_name_that_is_not_text_next_to_the_field(
    services: Services, client: httpx.AsyncClient, name: str, message: str
) -> None:
    event = await make_event(services)
    response = await post_form(client, event.id, booking(name=name))
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="error-name">(.*?)</p>', response.text, re.S)
    assert error is not None
    assert message in error.group(1)
    assert await registration_count(services) == 0


@pytest.mark.parametrize("field", ["organisation", "municipality"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Exempel\x00kommun", id="NUL"),
        pytest.param("Exempelkommun\x1b]8;;https://evil.example\x07", id="ESC-BEL"),
        pytest.param("Kommun\u2066evil\u2069", id="isolate"),
        pytest.param("=?utf-8?q?x=0D=0ABcc=3A_x=40evil.example?=", id="encoded-word"),
    ],
)
async def test_organisation_and_municipality_follow_the_same_rule(
    services: Services, client: httpx.AsyncClient, field: str, value: str
) -> None:
    event = await make_event(services)
    for post in (post_json, post_form):
        response = await post(client, event.id, booking(**{field: value}))
        assert response.status_code == 422
        assert field in response.text
    assert await registration_count(services) == 0


async def test_a_lone_surrogate_in_json_is_a_field_error_not_a_crash(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    response = await post_json(client, event.id, booking(name="Anna\ud800", organisation="\udfff"))
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"name", "organisation"}
    assert await registration_count(services) == 0


async def test_an_address_hiding_an_encoded_word_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    email = "a.=?utf-8?q?x=0D=0ABcc=3A_a=40evil.example?=@kommun.example.se"
    response = await post_json(client, event.id, booking(email=email))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"email": errors.MSG_EMAIL_INVALID}


@pytest.mark.parametrize("name", GOOD_NAMES)
async def test_names_in_any_script_are_booked_as_typed(
    services: Services, client: httpx.AsyncClient, name: str
) -> None:
    event = await make_event(services)
    response = await post_json(client, event.id, booking(name=f"  {name}\t"))
    assert response.status_code == 202
    form = await post_form(client, event.id, booking(name=name, email="two@kommun.example.se"))
    assert form.status_code == 303
    async with services.transaction() as session:
        assert list(await session.scalars(select(Registration.name))) == [name, name]


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        pytest.param(ISSUE_NAME, "Hej!", id="encoded-word-subject"),
        pytest.param("Ny länk\x1b", "Hej!", id="ESC-subject"),
        pytest.param("Ny länk", "Hej\x00då", id="NUL-body"),
        pytest.param("Ny länk", "Hej \u202edå", id="RLO-body"),
    ],
)
async def test_an_organisers_message_must_be_text(
    services: Services, subject: str, body: str
) -> None:
    event = await make_event(services)
    with pytest.raises(errors.RegistrationError) as refused:
        async with services.transaction() as session:
            await send_message(session, event.id, subject=subject, body=body, audience=Audience.ALL)
    assert refused.value.message in (MSG_CONTROL, MSG_ENCODED_WORD)
    async with services.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(OrganiserSend)) == 0


async def test_an_organisers_message_keeps_its_lines(services: Services) -> None:
    event = await make_event(services)
    async with services.transaction() as session:
        send = await send_message(
            session,
            event.id,
            # A line break in a subject is white space to fold: it can never end the header.
            subject="  Ny länk\r\nBcc: all@evil.example ",
            body="Hej!\r\n\r\nNy länk:\thttps://meet.example.se/ny\r\n",
            audience=Audience.ALL,
        )
    assert send.subject == "Ny länk Bcc: all@evil.example"
    assert send.body == "Hej!\n\nNy länk:\thttps://meet.example.se/ny"
