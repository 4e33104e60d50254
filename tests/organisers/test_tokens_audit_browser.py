"""The access tokens page and the audit log in Chromium with axe-core's WCAG 2.1 AA rules, in
Swedish and English, at a phone's width too: make a token, copy it, revoke it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page

from foundation.services import Services
from tests.browser import Visitor, axe_violations
from tests.signing_in import PASSWORD, add

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


async def checked(page: Page, base: str, shot: str = "") -> None:
    assert await axe_violations(page, base) == [], page.url
    wide = await page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.table-scroll') || e.matches('.table-scroll'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName)"""
    )
    assert wide == [], (page.url, wide)
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def test_tokens_and_the_audit_log_pass_axe(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await add(services, "boss@myndigheten.example.se", role="admin")
    page = await visitor.page()
    await page.goto(f"{live_server}/organiser/login")
    await page.fill("input[name=email]", "boss@myndigheten.example.se")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/organiser/")

    await page.click("nav a:has-text('Åtkomstnycklar')")
    await page.wait_for_url(f"{live_server}/organiser/tokens")
    await checked(page, live_server)
    await page.click("button:has-text('Skapa nyckel')")  # no name: the error summary
    await checked(page, live_server)
    await page.fill("#field-name", "Intranätet")
    await page.click("button:has-text('Skapa nyckel')")
    token = await page.input_value("#new-token")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    await checked(page, live_server, "tokens-created")
    await page.click("button:has-text('Återkalla')")
    await checked(page, live_server, "tokens-revoke-confirm")
    await page.click("button:has-text('Ja, återkalla nyckeln')")
    await page.wait_for_url(re.compile(r".*/organiser/tokens$"))
    assert "Nyckeln är återkallad" in await page.inner_text("main")
    await checked(page, live_server)

    await page.click("nav a:has-text('Händelselogg')")
    await page.wait_for_url(f"{live_server}/organiser/audit")
    assert await page.locator("tbody tr").count() >= 3  # added, signed in, token made…
    await checked(page, live_server, "audit-log")
    await page.select_option("#audit-action", "token.created")
    await page.click("button:has-text('Visa')")
    await page.wait_for_url(re.compile(r".*action=token.created"))
    assert await page.locator("tbody tr").count() == 1
    await checked(page, live_server)

    await page.goto(f"{live_server}/organiser/audit?lang=en")
    assert await page.locator("h1").text_content() == "Audit log"
    await checked(page, live_server)
    await page.set_viewport_size({"width": 320, "height": 640})
    await page.goto(f"{live_server}/organiser/tokens?lang=sv")
    await checked(page, live_server, "tokens-phone")
    await page.goto(f"{live_server}/organiser/audit")
    await checked(page, live_server, "audit-phone")
