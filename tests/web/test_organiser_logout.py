"""Signing out: only the signed-in browser's own form signs it out; another site cannot."""

from __future__ import annotations

import httpx

from foundation.services import Services
from tests.factories import csrf_in
from tests.signing_in import add, sign_in

ANNA = "anna@myndigheten.example.se"


async def test_a_cross_site_logout_without_the_session_cookie_touches_no_cookie(
    client: httpx.AsyncClient,
) -> None:
    """Another site's form arrives without the SameSite=Lax session cookie: it was answered
    with Set-Cookie deleting lk_organiser and a fresh lk_csrf."""
    out = await client.post(
        "/organiser/logout", data={"csrf_token": "x"}, headers={"sec-fetch-site": "cross-site"}
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/organiser/login"
    assert "set-cookie" not in out.headers
    plain = await client.post("/organiser/logout")
    assert plain.status_code == 303
    assert "set-cookie" not in plain.headers


async def test_a_cross_site_logout_changes_nothing_for_a_signed_in_browser(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, ANNA)
    assert (await sign_in(client, ANNA)).status_code == 303
    home = await client.get("/organiser/")
    out = await client.post(
        "/organiser/logout",
        data={"csrf_token": csrf_in(home.text)},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert out.status_code == 303
    assert "set-cookie" not in out.headers
    assert (await client.get("/organiser/")).status_code == 200  # still signed in
    # The browser's own form still signs out, and ends the session.
    own = await client.post(
        "/organiser/logout",
        data={"csrf_token": csrf_in(home.text)},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert own.status_code == 303
    assert "set-cookie" in own.headers
    assert (await client.get("/organiser/")).status_code == 303
