"""What an outside attack on the workspace found, held: lock-outs, leftover tokens, account
mail shown to organisers."""

from __future__ import annotations

import re
from html import unescape

import httpx

from foundation.services import Services
from tests.factories import csrf_in
from tests.signing_in import add, sign_in

ADMIN = "admin@myndigheten.example.se"
ORGANISER = "anna@myndigheten.example.se"


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/organiser/forgot")
    return await client.post(
        "/organiser/forgot", data={"csrf_token": csrf_in(page.text), "email": email}
    )


async def test_asking_for_reset_links_never_locks_an_account_out(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Anyone could lock an admin out for an hour by asking for reset links for them."""
    await add(services, ADMIN, role="admin")
    codes = [(await forgot(client, ADMIN)).status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes  # the address's own budget for reset links
    assert (await sign_in(client, ADMIN)).status_code == 303


async def test_an_office_signing_in_all_day_is_not_held_back(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Only failures count per client: 25 good sign-ins from one address all go through
    (SIGN_IN_RATE_LIMIT is 20 a minute)."""
    await add(services, ADMIN, role="admin")
    for _ in range(25):
        signed = await sign_in(client, ADMIN)
        assert signed.status_code == 303
        home = await client.get("/organiser/")
        await client.post("/organiser/logout", data={"csrf_token": csrf_in(home.text)})


async def make_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/organiser/tokens")
    made = await client.post(
        "/organiser/tokens", data={"csrf_token": csrf_in(page.text), "name": "Intranätet"}
    )
    assert made.status_code == 200
    found = re.search(r'id="new-token"[^>]*value="([^"]+)"', made.text)
    assert found, "the new token is shown once"
    return unescape(found.group(1))


async def test_signing_an_account_out_everywhere_revokes_its_tokens(
    services: Services, client: httpx.AsyncClient
) -> None:
    """A token made with a stolen session outlived "sign out everywhere"."""
    anna = await add(services, ORGANISER)
    await add(services, ADMIN, role="admin")
    await sign_in(client, ORGANISER)
    token = await make_token(client)
    api = "/api/v1/organiser/events"
    assert (await client.get(api, headers={"authorization": f"Bearer {token}"})).status_code == 200
    home = await client.get("/organiser/")
    await client.post("/organiser/logout", data={"csrf_token": csrf_in(home.text)})
    await sign_in(client, ADMIN)
    page = await client.get(f"/organiser/accounts/{anna.id}")
    out = await client.post(
        f"/organiser/accounts/{anna.id}/sign-out", data={"csrf_token": csrf_in(page.text)}
    )
    assert out.status_code in (200, 303)
    client.cookies.clear()
    assert (await client.get(api, headers={"authorization": f"Bearer {token}"})).status_code == 401
