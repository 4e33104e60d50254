"""Organiser accounts and signing a test client in, for any test module (test modules may
not import one another; tests/test_layers.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape

import httpx

from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from organisers import accounts, tokens
from organisers.models import Organiser
from tests.factories import csrf_in

PASSWORD = "en lång lösenfras för kaféet"
API = "/api/v1/organiser"  # the organiser API's prefix


async def token_for(services: Services, organiser: Organiser, name: str = "Test") -> str:
    """A personal access token for `organiser`, its secret as the API takes it."""
    async with services.transaction() as session:
        made = await tokens.create_token(session, await session.merge(organiser), name, utcnow())
    return made.secret


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def add(
    services: Services, email: str, role: str = "organiser", password: str | None = PASSWORD
) -> Organiser:
    async with services.transaction() as session:
        return await accounts.add_organiser(
            session,
            email=email,
            name=email.split("@")[0].title(),
            role=role,
            password=password,
            now=utcnow(),
        )


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    """Sign `client` in through the sign-in form (its cookies then carry the session)."""
    page = await client.get("/organiser/login")
    data = {"csrf_token": csrf_in(page.text), "email": email, "password": password}
    if next_path:
        data["next"] = next_path
    return await client.post("/organiser/login", data=data)


def text_of(response: httpx.Response) -> str:
    """A page's visible text, white space folded."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", response.text)))


@asynccontextmanager
async def signed_in_client(
    services: Services, email: str = "anna@myndigheten.example.se"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on `services`, signed in as a new organiser account `email`."""
    await add(services, email)
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await sign_in(client, email)).status_code == 303
        yield client
