"""A signed-in organiser's forms carry CSRF tokens bound to that session: a pair made
anywhere else (an anonymous page, another organiser, an earlier session) is refused on
every workspace POST with the friendly 403 page, and sign-in and sign-out rotate the cookie."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from foundation.services import Services
from organisers.models import AccessToken
from tests.factories import csrf_in, csrf_of
from tests.signing_in import add, sign_in, text_of

EXPIRED = "Formuläret har gått ut"


async def _tokens_made(services: Services) -> int:
    async with services.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(AccessToken)) or 0)


def _csrf_cookie(client: httpx.AsyncClient) -> str:
    return str(client.cookies.get("lk_csrf"))


async def _make_token(client: httpx.AsyncClient, csrf_token: str) -> httpx.Response:
    """A workspace POST that changes something: making an access token."""
    return await client.post(
        "/organiser/tokens", data={"csrf_token": csrf_token, "name": "Kalenderexport"}
    )


async def test_the_same_sessions_token_works(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    made = await _make_token(client, await csrf_of(client, "/organiser/tokens"))
    assert made.status_code == 200
    assert await _tokens_made(services) == 1


async def test_an_anonymous_pages_pair_is_refused_on_a_workspace_post(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    # The same browser, the same cookie: a form of a page anyone may open.
    anonymous = await csrf_of(client, "/organiser/forgot")
    refused = await _make_token(client, anonymous)
    assert refused.status_code == 403
    assert EXPIRED in text_of(refused)
    assert await _tokens_made(services) == 0


async def test_another_organisers_pair_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await add(services, "bea@myndigheten.example.se")
    transport = client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bea:
        await sign_in(bea, "bea@myndigheten.example.se")
        beas_token = await csrf_of(bea, "/organiser/tokens")
        beas_cookie = _csrf_cookie(bea)
    await sign_in(client, "anna@myndigheten.example.se")
    client.cookies.set("lk_csrf", beas_cookie)  # planted, with Bea's matching token
    refused = await _make_token(client, beas_token)
    assert refused.status_code == 403
    assert EXPIRED in text_of(refused)
    assert await _tokens_made(services) == 0


async def test_a_form_from_an_earlier_session_is_refused_after_signing_in_again(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    page = await client.get("/organiser/tokens")
    old_token, old_cookie = csrf_in(page.text), _csrf_cookie(client)
    out = await client.post("/organiser/logout", data={"csrf_token": old_token})
    assert out.status_code == 303
    await sign_in(client, "anna@myndigheten.example.se")
    refused = await _make_token(client, old_token)
    assert refused.status_code == 403
    assert EXPIRED in text_of(refused)
    # Not only the rotated cookie: with the old cookie back, the new session still refuses.
    client.cookies.set("lk_csrf", old_cookie)
    assert (await _make_token(client, old_token)).status_code == 403
    assert await _tokens_made(services) == 0


async def test_signing_in_and_out_rotate_the_csrf_cookie(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await client.get("/organiser/login")
    before = _csrf_cookie(client)
    signed = await sign_in(client, "anna@myndigheten.example.se")
    assert signed.status_code == 303
    inside = _csrf_cookie(client)
    assert inside != before
    home = await client.get("/organiser/")
    await client.post("/organiser/logout", data={"csrf_token": csrf_in(home.text)})
    assert _csrf_cookie(client) not in (before, inside)


async def test_anonymous_forms_keep_working_beside_a_session(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    asked = await client.post(
        "/organiser/forgot",
        data={"csrf_token": await csrf_of(client, "/organiser/forgot"), "email": "x@example.se"},
    )
    assert asked.status_code == 200
