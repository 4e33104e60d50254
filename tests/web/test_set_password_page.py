"""Choosing a password from a mailed link (/organiser/password/{token}): the rule is said
before typing, a second field must repeat the password, a checkbox shows what was typed
(a script of the site's own, the form works without it), and the overview says the
password was saved. Through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage
from organisers import password_links
from tests.conftest import SECRET
from tests.factories import csrf_in
from tests.signing_in import text_of

NEW_PASSWORD = "ett helt nytt lösenord för hösten"


async def invited(services: Services) -> str:
    """The set-password link's token of a new account invited by mail."""
    async with services.transaction() as session:
        await password_links.add_with_invitation(
            session,
            email="nora@kommun.example.se",
            name="Nora Ny",
            role="organiser",
            secret_key=SECRET,
            now=utcnow(),
        )
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert row is not None
    return password_links.derive_token(SECRET, row.payload["nonce"])


async def test_the_page_says_the_rule_first_and_offers_to_show_the_password(
    services: Services, client: httpx.AsyncClient
) -> None:
    page = await client.get(f"/organiser/password/{await invited(services)}")
    assert page.status_code == 200
    form = page.text.split("<form", 1)[1]
    rule = form.index("Minst 12 och högst 1 000 tecken.")
    assert rule < form.index('id="field-password"')
    assert 'id="field-password_again"' in form
    assert re.search(r'<input id="field-show-password" type="checkbox">', form)
    assert re.search(r'<script src="/static/show-password\.js" defer></script>', page.text)
    script = await client.get("/static/show-password.js")
    assert script.status_code == 200
    assert "field-show-password" in script.text


async def test_the_repeat_must_match(services: Services, client: httpx.AsyncClient) -> None:
    token = await invited(services)
    page = await client.get(f"/organiser/password/{token}")
    differs = await client.post(
        f"/organiser/password/{token}",
        data={
            "csrf_token": csrf_in(page.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD + "!",
        },
    )
    assert differs.status_code == 422
    assert "Lösenorden är inte likadana" in text_of(differs)
    assert 'aria-invalid="true"' in differs.text.split('id="field-password_again"')[1][:400]


async def test_the_overview_says_the_password_was_saved_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await invited(services)
    page = await client.get(f"/organiser/password/{token}")
    done = await client.post(
        f"/organiser/password/{token}",
        data={
            "csrf_token": csrf_in(page.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/organiser/"
    assert "Lösenordet är sparat." in text_of(await client.get("/organiser/"))
    assert "Lösenordet är sparat." not in text_of(await client.get("/organiser/"))
