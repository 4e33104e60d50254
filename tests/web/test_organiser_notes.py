"""Every workspace action says what it did the one same way: the page it leads back to
shows a note once (a reload shows the page without it), carried in a signed cookie for that
page only, never in the URL (foundation/flash.py)."""

from __future__ import annotations

import httpx

from foundation import flash
from foundation.services import Services
from tests.factories import csrf_of, make_series
from tests.signing_in import add, sign_in, text_of


async def signed_in(services: Services, client: httpx.AsyncClient, role: str) -> None:
    await add(services, "olle@myndigheten.example.se", role=role)
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303


async def said_once(client: httpx.AsyncClient, answer: httpx.Response, words: str) -> None:
    """`answer` leads to a page that says `words` once, without a query in its URL."""
    assert answer.status_code == 303, answer.text
    page = answer.headers["location"].split("#")[0]
    assert "?" not in page
    assert flash.COOKIE in answer.headers["set-cookie"]
    assert words in text_of(await client.get(page))
    assert words not in text_of(await client.get(page))


async def test_an_events_page_says_once_that_it_was_saved(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client, "organiser")
    (event, *_) = await make_series(services)
    edit = f"/organiser/events/{event.id}/edit"
    form = {"csrf_token": await csrf_of(client, edit), "title": "Nytt namn", "kind": "cafe"}
    form |= {"summary": "", "description": "", "capacity": "20", "reminder_offsets": ""}
    saved = await client.post(edit, data=form)
    await said_once(client, saved, "Ändringarna är sparade.")


async def test_a_series_page_says_once_that_it_was_saved(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client, "organiser")
    (event, *_) = await make_series(services)
    edit = f"/organiser/series/{event.series_id}/edit"
    saved = await client.post(
        edit, data={"csrf_token": await csrf_of(client, edit), "title": "Kaféer om bygglov"}
    )
    await said_once(client, saved, "Serien är sparad.")


async def test_an_account_page_says_once_that_the_invitation_is_on_its_way(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client, "admin")
    new = "/organiser/accounts/new"
    form = {"name": "Nora Ny", "email": "nora@kommun.example.se", "role": "organiser"}
    added = await client.post(new, data={"csrf_token": await csrf_of(client, new), **form})
    await said_once(client, added, "Inbjudan ligger i utkorgen")


async def test_the_tokens_page_says_once_that_a_token_was_revoked(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client, "organiser")
    made = await client.post(
        "/organiser/tokens",
        data={"csrf_token": await csrf_of(client, "/organiser/tokens"), "name": "Intranätet"},
    )
    assert made.status_code == 200
    (revoke,) = {
        part.split('"')[0] for part in made.text.split('action="')[1:] if "/revoke" in part
    }
    confirm = await client.post(
        revoke, data={"csrf_token": await csrf_of(client, "/organiser/tokens")}
    )
    assert confirm.status_code == 200
    revoked = await client.post(
        revoke, data={"csrf_token": await csrf_of(client, "/organiser/tokens"), "confirm": "yes"}
    )
    await said_once(client, revoked, "Nyckeln är återkallad")
