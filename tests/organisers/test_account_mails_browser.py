"""The account pages in Chromium with axe-core's WCAG 2.1 AA rules: the admins' accounts
pages, "forgot password" and choosing a password from a mailed link, at a phone's width too."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage
from organisers import accounts, password_links
from tests.browser import Visitor, axe_violations
from tests.conftest import SECRET

PASSWORD = "en lång lösenfras för kaféet"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


async def checked(page: Page, base: str, shot: str = "") -> None:
    assert await axe_violations(page, base) == [], page.url
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def newest_link_token(services: Services, email: str) -> str:
    """The token of the newest link mailed to `email`, derived as the mail's composer does."""
    async with services.transaction() as session:
        row = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        )
    assert row is not None
    return password_links.derive_token(SECRET, row.payload["nonce"])


async def test_the_account_pages_pass_axe(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    async with services.transaction() as session:
        await accounts.add_organiser(
            session,
            email="boss@myndigheten.example.se",
            name="Eva Chef",
            role="admin",
            password=PASSWORD,
            now=utcnow(),
        )
    page = await visitor.page()
    await page.goto(f"{live_server}/organiser/login")
    await checked(page, live_server)
    await page.fill("input[name=email]", "boss@myndigheten.example.se")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/organiser/")

    await page.goto(f"{live_server}/organiser/accounts")
    await checked(page, live_server)
    await page.click("a:has-text('Lägg till konto')")
    await page.wait_for_url(re.compile(r".*/organiser/accounts/new$"))
    await checked(page, live_server)
    await page.fill("#field-name", "Nora Ny")
    await page.fill("#field-email", "nora@kommun.example.se")
    await page.evaluate("document.querySelector('form.narrow-form').noValidate = true")
    await page.fill("#field-email", "inte en adress")
    await page.click("button:has-text('Lägg till och skicka inbjudan')")
    assert "Skriv en giltig e-postadress." in await page.inner_text(".error-summary")
    await checked(page, live_server, "account-new-errors")
    await page.fill("#field-email", "nora@kommun.example.se")
    await page.check("#role-organiser")
    await page.click("button:has-text('Lägg till och skicka inbjudan')")
    await page.wait_for_url(re.compile(r".*/organiser/accounts/\d+$"))
    assert "Inbjudan ligger i utkorgen" in await page.inner_text("main")
    await checked(page, live_server, "account-invited")
    account_page = page.url

    await page.click("a:has-text('Stäng av kontot')")
    await page.wait_for_url(re.compile(r".*/disable$"))
    await checked(page, live_server, "account-disable-confirm")

    # The invited person, on a phone: choose a password from the link, signed in.
    token = await newest_link_token(services, "nora@kommun.example.se")
    phone = await visitor.page(viewport={"width": 360, "height": 740})
    await phone.goto(f"{live_server}/organiser/password/{token}")
    await checked(phone, live_server, "password-set")
    await phone.fill("#field-password", "kort")
    await phone.fill("#field-password_again", "kort")
    await phone.evaluate("document.querySelector('form.narrow-form').noValidate = true")
    await phone.click("button[type=submit]")
    assert "minst 12 tecken" in await phone.inner_text(".error-summary")
    await checked(phone, live_server, "password-set-errors")
    await phone.fill("#field-password", "ett helt nytt lösenord för hösten")
    await phone.fill("#field-password_again", "ett helt nytt lösenord för hösten")
    await phone.click("button[type=submit]")
    await phone.wait_for_url(f"{live_server}/organiser/")
    assert "Inloggad som Nora Ny" in await phone.inner_text(".workspace-nav")

    await page.goto(account_page)
    assert "Aktivt" in await page.inner_text("main")
    await checked(page, live_server, "account-active")

    anonymous = await visitor.page()
    await anonymous.goto(f"{live_server}/organiser/login")
    await anonymous.click("a:has-text('Glömt lösenordet?')")
    await anonymous.wait_for_url(f"{live_server}/organiser/forgot")
    await checked(anonymous, live_server)
    await anonymous.fill("#field-email", "okand@kommun.example.se")
    await anonymous.click("button[type=submit]")
    assert "Om adressen har ett konto" in await anonymous.inner_text("main")
    await checked(anonymous, live_server, "password-forgot-sent")
