"""The pages of a person's own data, and the admin's erasure page, in Chromium with axe-core's
WCAG 2.1 AA rules, in Swedish and English, at 320 px too: ask, see, confirm, erased."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy import select

from foundation.services import Services
from registrations.models import AttendeeFeed
from registrations.personal_data import link_token
from tests.browser import Visitor, axe_violations
from tests.conftest import SECRET
from tests.factories import address, book, make_event
from tests.signing_in import PASSWORD, add


async def checked(page: Page, base: str) -> None:
    assert await axe_violations(page, base) == [], page.url
    wide = await page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName)"""
    )
    assert wide == [], (page.url, wide)


async def test_the_data_pages_pass_axe_in_both_languages_and_on_a_phone(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    if not services.settings.is_sqlite:
        pytest.skip("the same pages on PostgreSQL: their data is tested there without a browser")
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    async with services.transaction() as session:
        feed = await session.scalar(
            select(AttendeeFeed).where(AttendeeFeed.email_normalised == address(1))
        )
        assert feed is not None
        token = link_token(feed, SECRET)
    page = await visitor.page()
    for lang in ("sv", "en"):
        await page.goto(f"{live_server}/my-data?lang={lang}")
        await checked(page, live_server)
        if lang == "sv":  # the form's two answers: the error summary, and sent
            await page.click("main button[type=submit]")
            await checked(page, live_server)
            await page.fill("#field-email", "nobody@kommun.example.se")
            await page.click("main button[type=submit]")
            await page.wait_for_selector(".notice--success")
            await checked(page, live_server)
        await page.goto(f"{live_server}/my-data/{token}?lang={lang}")
        assert "Person 1" in await page.inner_text("main")
        await checked(page, live_server)
        await page.goto(f"{live_server}/my-data/{token}/erase?lang={lang}")
        await checked(page, live_server)
    await page.set_viewport_size({"width": 320, "height": 800})
    for path in ("/my-data", f"/my-data/{token}"):
        await page.goto(f"{live_server}{path}?lang=sv")
        await checked(page, live_server)
    await page.goto(f"{live_server}/my-data/{token}/erase?lang=sv")
    # "No, keep them" is no tap target crowding the red button: beside it or well below.
    apart = await page.evaluate(
        """() => {
            const yes = document.querySelector('.danger-zone button').getBoundingClientRect();
            const no = document.querySelector('.danger-zone a').getBoundingClientRect();
            return Math.max(no.top - yes.bottom, no.left - yes.right);
        }"""
    )
    assert apart >= 16, apart
    await page.click("button:has-text('Ja, radera mina uppgifter')")
    await page.wait_for_url(f"{live_server}/my-data/erased")
    await checked(page, live_server)

    await add(services, "boss@myndigheten.example.se", role="admin")
    admin = await visitor.page()
    await admin.goto(f"{live_server}/organiser/login")
    await admin.fill("input[name=email]", "boss@myndigheten.example.se")
    await admin.fill("input[name=password]", PASSWORD)
    await admin.click("button[type=submit]")
    await admin.wait_for_url(f"{live_server}/organiser/")
    await admin.click("nav a:has-text('Radera uppgifter')")
    await checked(admin, live_server)
    await admin.fill("#field-email", address(2))
    await admin.click("button:has-text('Visa vad som raderas')")
    await checked(admin, live_server)
    await admin.click("button:has-text('Ja, radera uppgifterna')")
    await admin.wait_for_selector(".notice--success")
    await admin.set_viewport_size({"width": 320, "height": 800})
    await admin.goto(f"{live_server}/organiser/erase?lang=en")
    await checked(admin, live_server)
