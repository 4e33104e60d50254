"""Organisers sign in to the workspace: accounts, sessions, roles, the gate on every page."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select
from starlette.routing import Route

from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from organisers import accounts
from organisers.access import SALT
from organisers.models import AuditEntry, Role
from tests.conftest import SECRET
from tests.factories import csrf_in, make_event
from tests.signing_in import PASSWORD, add, sign_in, text_of


async def test_an_organiser_signs_in_sees_the_overview_and_signs_out(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await make_event(services, title="Lunchkafé om förenkling")
    signed = await sign_in(client, "Anna@Myndigheten.example.se")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/organiser/"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    home = await client.get("/organiser/")
    assert home.status_code == 200
    assert "Lunchkafé om förenkling" in home.text
    assert home.headers["cache-control"] == "private, no-store"
    assert "Inloggad som Anna" in text_of(home)

    out = await client.post("/organiser/logout", data={"csrf_token": csrf_in(home.text)})
    assert out.status_code == 303
    assert (await client.get("/organiser/")).status_code == 303  # back to signing in


async def test_a_session_cookie_kept_after_signing_out_opens_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    stolen = dict(client.cookies)
    home = await client.get("/organiser/")
    await client.post("/organiser/logout", data={"csrf_token": csrf_in(home.text)})
    replay = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    replay.cookies.update(stolen)
    async with replay:
        assert (await replay.get("/organiser/")).status_code == 303


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("anna@myndigheten.example.se", "fel lösenord för kontot"),
        ("okand@myndigheten.example.se", PASSWORD),
        ("utan.losenord@myndigheten.example.se", PASSWORD),
        ("avstangd@myndigheten.example.se", PASSWORD),
    ],
    ids=["wrong-password", "no-account", "no-password-yet", "disabled"],
)
async def test_every_refused_sign_in_answers_alike(
    services: Services, client: httpx.AsyncClient, email: str, password: str
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await add(services, "utan.losenord@myndigheten.example.se", password=None)
    disabled = await add(services, "avstangd@myndigheten.example.se")
    async with services.transaction() as session:
        await accounts.disable(session, await session.merge(disabled), utcnow())
    refused = await sign_in(client, email, password)
    assert refused.status_code == 401
    assert "Fel e-postadress eller lösenord." in text_of(refused)
    assert "lk_organiser" not in refused.headers.get("set-cookie", "")
    assert (await client.get("/organiser/")).status_code == 303


async def test_disabling_an_account_signs_it_out_at_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    organiser = await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    assert (await client.get("/organiser/")).status_code == 200
    async with services.transaction() as session:
        await accounts.disable(session, await session.merge(organiser), utcnow())
    assert (await client.get("/organiser/")).status_code == 303


async def test_a_session_idle_too_long_has_ended(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    token = TimestampSigner(SECRET, salt=SALT).unsign(client.cookies["lk_organiser"]).decode()

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((utcnow() - timedelta(hours=2)).timestamp())

    client.cookies.set("lk_organiser", TwoHoursAgo(SECRET, salt=SALT).sign(token).decode())
    assert (await client.get("/organiser/")).status_code == 303


async def test_repeated_failures_for_one_account_are_held_back(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    codes = [
        (await sign_in(client, "anna@myndigheten.example.se", "gissning nummer ett")).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    held = await sign_in(client, "anna@myndigheten.example.se")  # even the right password
    assert held.status_code == 429
    assert int(held.headers["retry-after"]) > 0
    assert "För många inloggningsförsök" in text_of(held)


@pytest.mark.parametrize(
    "next_path", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/events/1"]
)
async def test_after_signing_in_only_an_organiser_page_is_a_destination(
    services: Services, client: httpx.AsyncClient, next_path: str
) -> None:
    await add(services, "anna@myndigheten.example.se")
    signed = await sign_in(client, "anna@myndigheten.example.se", next_path=next_path)
    assert signed.headers["location"] == "/organiser/"


# Reached without signing in: signing in and out, and a password forgotten or set from a
# mailed link (tests/organisers/test_account_mails.py).
PUBLIC = {
    "/organiser/login",
    "/organiser/logout",
    "/organiser/forgot",
    "/organiser/password/{token}",
}


def organiser_routes(services: Services) -> list[tuple[str, str, Role | None]]:
    """(method, path, the role it requires) of every gated workspace route; AssertionError
    for a /organiser/ route that is neither gated nor known to be public."""
    app = create_app(services.settings, services)
    found = []
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/organiser/"):
            if route.path in PUBLIC:
                continue
            assert getattr(route.endpoint, "gated", False), f"{route.path} has no gate"
            role = getattr(route.endpoint, "required_role", None)
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    found.append((method, route.path, role))
    return found


def filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_organiser_route_sends_the_anonymous_to_sign_in(
    services: Services, client: httpx.AsyncClient
) -> None:
    """With a valid CSRF token, so only the gate can stop a POST: a handler without one
    would act (or refuse for its own reasons), not send the visitor to sign in."""
    routes = organiser_routes(services)
    assert ("GET", "/organiser/", None) in routes
    token = csrf_in((await client.get("/organiser/login")).text)
    for method, path, _role in routes:
        data = {"csrf_token": token} if method == "POST" else None
        response = await client.request(method, filled(path), data=data)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/organiser/login?next=")


async def test_an_organiser_gets_403_on_every_admin_route_and_an_admin_does_not(
    services: Services, client: httpx.AsyncClient
) -> None:
    routes = organiser_routes(services)
    admin_only = [(m, p) for m, p, role in routes if role is Role.ADMIN]
    assert ("GET", "/organiser/accounts") in admin_only
    assert ("GET", "/organiser/audit") in admin_only
    assert ("GET", "/organiser/erase") in admin_only  # erasing a person on request
    assert ("POST", "/organiser/erase") in admin_only
    await add(services, "anna@myndigheten.example.se", role="organiser")
    await add(services, "boss@myndigheten.example.se", role="admin")
    await sign_in(client, "anna@myndigheten.example.se")
    home = await client.get("/organiser/")
    token = csrf_in(home.text)
    for method, path in admin_only:
        data = {"csrf_token": token} if method == "POST" else None
        response = await client.request(method, filled(path), data=data)
        assert response.status_code == 403, (method, path, response.status_code)
    assert "Konton" not in text_of(home)
    await client.post("/organiser/logout", data={"csrf_token": token})
    await sign_in(client, "boss@myndigheten.example.se")
    for method, path in admin_only:
        if method == "GET" and "{" not in path:
            assert (await client.get(path)).status_code == 200, path
    assert "anna@myndigheten.example.se" in (await client.get("/organiser/accounts")).text


async def test_sign_ins_and_account_changes_are_in_the_audit_log(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    async with services.transaction() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        assert list(actions) == ["account.added", "signed_in"]
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 2
