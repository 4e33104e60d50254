"""One send per form and per API request (organisers.send_keys): a form posted again, a
reminder asked for twice, a client repeating itself or flooding an event's inboxes."""

from __future__ import annotations

import re
from html import unescape

import httpx

from foundation.services import Services
from lunchkafe.app import create_app
from mail.models import MessageKind
from tests.conftest import Mail
from tests.factories import add_confirmed, csrf_in, make_event, outbox
from tests.signing_in import API, add, bearer, sign_in, text_of, token_for

ANNA = "anna@myndigheten.example.se"
INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_of(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action`, as a browser sends them."""
    opening = rf'<form method="post" action="[^"]*{re.escape(action)}">'
    form = re.search(opening + "(.*?)</form>", page, re.S)
    assert form, action
    return {name: unescape(value) for name, value in INPUT.findall(form.group(1))}


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, ANNA, role="admin")
    assert (await sign_in(client, ANNA)).status_code == 303


async def sends_of(services: Services, kind: MessageKind) -> int:
    return len({m.send_id for m in await outbox(services) if m.kind == kind})


async def test_the_reminder_form_posted_three_times_sends_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Posting the reminder form three times with the same csrf_token made three sends."""
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 4))
    await signed_in(services, client)
    page = await client.get(f"/organiser/events/{event.id}/reminder")
    form = hidden_of(page.text, f"/organiser/events/{event.id}/reminder")
    assert form["send_key"]
    answers = [
        await client.post(f"/organiser/events/{event.id}/reminder", data=form) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [303, 303, 303]
    assert len({a.headers["location"] for a in answers}) == 1  # the first send's progress
    assert await sends_of(services, MessageKind.REMINDER) == 1
    reminders = [m for m in await outbox(services) if m.kind == MessageKind.REMINDER]
    assert len(reminders) == 3  # one each, not three each


async def test_a_second_reminder_within_half_an_hour_asks_first_saying_when(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 3))
    await signed_in(services, client)
    path = f"/organiser/events/{event.id}/reminder"
    first = hidden_of((await client.get(path)).text, path)
    assert "again" not in first
    assert (await client.post(path, data=first)).status_code == 303

    # A fresh page (another tab, a colleague): it says when the last one went.
    page = await client.get(path)
    assert "Den senaste påminnelsen skickades" in text_of(page)
    # A form from before that reminder asks again rather than sending.
    stale = {**first, "send_key": hidden_of(page.text, path)["send_key"]}
    asked = await client.post(path, data=stale)
    assert asked.status_code == 409
    assert "Den senaste påminnelsen skickades" in text_of(asked)
    assert await sends_of(services, MessageKind.REMINDER) == 1
    # Confirming on the page that said so sends another.
    again = hidden_of(asked.text, path)
    assert again["again"]
    assert (await client.post(path, data=again)).status_code == 303
    assert await sends_of(services, MessageKind.REMINDER) == 2


async def test_the_message_form_posted_again_sends_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 3))
    await signed_in(services, client)
    page = await client.get(f"/organiser/events/{event.id}/messages")
    preview = await client.post(
        f"/organiser/events/{event.id}/messages/preview",
        data={
            "csrf_token": csrf_in(page.text),
            "audience": "all",
            "subject": "Ny sal",
            "body": "Vi ses i stora salen.",
        },
    )
    form = hidden_of(preview.text, f"/organiser/events/{event.id}/messages")
    answers = [
        await client.post(f"/organiser/events/{event.id}/messages", data=form) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [303, 303, 303]
    assert len({a.headers["location"] for a in answers}) == 1
    assert await sends_of(services, MessageKind.ORGANISER_MESSAGE) == 1

    # Without its key (a page from before keys) nothing goes: the preview is shown again.
    keyless = {k: v for k, v in form.items() if k != "send_key"}
    shown = await client.post(f"/organiser/events/{event.id}/messages", data=keyless)
    assert shown.status_code == 409
    assert "Kontrollera utskicket en gång till" in text_of(shown)
    assert await sends_of(services, MessageKind.ORGANISER_MESSAGE) == 1


async def test_an_idempotency_key_answers_the_send_it_made(services: Services, mail: Mail) -> None:
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 3))
    message = {"subject": "Program", "body": "Hej!", "to": "confirmed"}
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        path = f"{API}/events/{event.id}/messages"
        keyed = {**auth, "idempotency-key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
        first = await client.post(path, headers=keyed, json=message)
        assert first.status_code == 202, first.text
        again = await client.post(path, headers=keyed, json=message)
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        other = await client.post(path, headers=keyed, json={**message, "body": "Hej igen!"})
        assert other.status_code == 422, other.text
        assert other.json()["code"] == "idempotency_key_reused"
        assert other.headers["content-type"].startswith("application/problem+json")
        assert await sends_of(services, MessageKind.ORGANISER_MESSAGE) == 1
        # Another key is another message.
        fresh = await client.post(path, headers={**auth, "idempotency-key": "2"}, json=message)
        assert fresh.status_code == 202
        assert fresh.json()["send_id"] != first.json()["send_id"]
        bad = await client.post(path, headers={**auth, "idempotency-key": "x" * 201}, json=message)
        assert bad.status_code == 422
        document = (await client.get("/api/v1/openapi.json")).json()
        operation = document["paths"][f"{API}/events/{{event_id}}/messages"]["post"]
        assert {"name": "Idempotency-Key", "in": "header"}.items() <= operation["parameters"][
            -1
        ].items()
        assert {"200", "202", "422", "429"} <= set(operation["responses"])


async def test_thirty_calls_in_a_row_are_held_back_with_retry_after(
    services: Services, mail: Mail
) -> None:
    """30 calls to POST …/messages all answered 202 in 1.7 s."""
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 2))
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        codes = []
        for n in range(30):
            answer = await client.post(
                f"{API}/events/{event.id}/messages",
                headers=auth,
                json={"subject": f"Nummer {n}", "body": "Hej!", "to": "all"},
            )
            codes.append(answer.status_code)
            if answer.status_code == 429:
                assert int(answer.headers["retry-after"]) >= 1
                assert answer.json()["code"] == "rate_limited"
                assert answer.json()["retry_after"] >= 1
    assert codes[:5] == [202] * 5
    assert set(codes[5:]) == {429}
    assert await sends_of(services, MessageKind.ORGANISER_MESSAGE) == 5
