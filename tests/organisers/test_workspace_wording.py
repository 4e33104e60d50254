"""Words that mean one thing across the workspace: "I kö" is the waitlist, never mail waiting
to go out ("Väntar på att skickas"), and counts are said with the catalogue's plural forms
("1 bekräftad", "2 bekräftade"). Through the app's client, in Swedish and English."""

from __future__ import annotations

import re

import httpx

from foundation.services import Services
from tests.factories import add_confirmed, book, csrf_of, make_event
from tests.signing_in import add, sign_in, text_of


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "anna@myndigheten.example.se")
    assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303


async def test_mail_waiting_to_go_out_is_not_called_the_waitlist(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 3))
    await signed_in(services, client)
    path = f"/organiser/events/{event.id}/messages"
    data = {"csrf_token": await csrf_of(client, path), "audience": "confirmed"}
    data |= {"subject": "Program", "body": "Vi ses."}
    preview = await client.post(f"{path}/preview", data=data)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview.text))
    sent = await client.post(path, data={**data, **hidden})
    assert sent.status_code == 303
    send_path = sent.headers["location"]

    page = text_of(await client.get(send_path))
    assert "Väntar på att skickas 2" in page
    assert "I kö" not in page
    listed = text_of(await client.get(path))
    assert "Väntar på att skickas" in listed
    english = text_of(await client.get(f"{send_path}?lang=en"))
    assert "Waiting to be sent 2" in english
    assert "Waitlisted" not in english


async def test_counts_use_the_plural_forms(services: Services, client: httpx.AsyncClient) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await signed_in(services, client)
    paths = (f"/organiser/events/{event.id}/cancel", f"/organiser/events/{event.id}/messages")
    for path in paths:
        page = text_of(await client.get(path))
        assert "1 bekräftad, 0 i kön." in page, path
        assert "1 bekräftade" not in page, path
    for path in paths:  # the language chosen stays with the browser
        english = text_of(await client.get(f"{path}?lang=en"))
        assert "1 confirmed seat, 0 people waiting." in english, path
    await client.get(f"{paths[0]}?lang=sv")
    await book(services, event.id, 2)
    page = text_of(await client.get(f"/organiser/events/{event.id}/cancel"))
    assert "1 bekräftad, 1 i kön." in page
