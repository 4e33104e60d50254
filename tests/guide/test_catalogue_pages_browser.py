"""The guide catalogue's pages in Chromium: axe-core's WCAG 2.1 AA rules in Swedish and
English at a phone's 320 px, and on paper (print media) without the site's chrome and with
each link's address written out."""

from __future__ import annotations

from playwright.async_api import Page
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from lunchkafe.demo import load_demo
from tests.browser import Visitor, assert_accessible

WIDE = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
PAGES = (
    "/guide",
    "/guide?challenge=samhallsplanering",
    "/guide/sormland-strukturbild",
    "/guide/tips/hitta-gemensamma-mal-och-resurser",
    "/guide/processes/platsutveckling-i-sex-steg",
    "/guide/challenges/samhallsplanering",
)


async def checked(page: Page, base: str, path: str) -> None:
    answer = await page.goto(f"{base}{path}")
    assert answer is not None
    assert answer.status == 200, path
    await assert_accessible(page, base)
    assert not await page.evaluate(WIDE), path


async def test_the_guide_pages_are_accessible_narrow_and_printable(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        workshop = await session.scalar(
            select(Event.id).where(Event.title.startswith("Platsutveckling i sex steg"))
        )
    page = await visitor.page(viewport={"width": 320, "height": 700})
    for language in ("sv", "en"):
        await page.goto(f"{live_server}/?lang={language}")  # the cookie keeps the language
        for path in (*PAGES, f"/events/{workshop}", "/?challenge=lokal-utveckling"):
            await checked(page, live_server, path)
        assert await page.evaluate("document.documentElement.lang") == language

    # From the process to the workshop's booking form by its 'Boka plats' link.
    await page.goto(f"{live_server}/guide/processes/platsutveckling-i-sex-steg?lang=sv")
    await page.get_by_role("link", name="Boka plats").first.click()
    await page.wait_for_url(f"{live_server}/events/{workshop}#book-title")
    assert await page.get_by_role("heading", name="Boka plats").is_visible()

    # On paper: no header, footer or booking buttons; a link's address after its text.
    await page.goto(f"{live_server}/guide/sormland-strukturbild")
    await page.emulate_media(media="print")
    assert not await page.locator(".site-header").is_visible()
    assert not await page.locator(".site-footer").is_visible()
    after = await page.evaluate(
        """() => getComputedStyle(
            document.querySelector('main a[href^="mailto:"]'), '::after').content"""
    )
    assert after == '" (mailto:regional.planering@example.se)"'
