"""'Dela med dig' in Chromium, with axe-core's WCAG 2.1 AA rules, in both languages and at a
phone's width: the form, the form with errors, the receipt; and the organiser's pages that
turn the proposal into an example."""

from __future__ import annotations

import re

from playwright.async_api import Page

from foundation.services import Services
from lunchkafe.demo import load_demo
from tests.browser import Visitor, assert_accessible, signed_in_page

WIDE = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


async def checked(page: Page, base: str) -> None:
    await assert_accessible(page, base)
    assert not await page.evaluate(WIDE), page.url


async def test_sharing_an_example_by_keyboard_in_both_languages_at_320_px(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    page = await visitor.page(viewport={"width": 320, "height": 700})
    await page.goto(f"{live_server}/guide/share?lang=en")
    assert await page.locator("h1").inner_text() == "Share an example"
    await checked(page, live_server)

    await page.goto(f"{live_server}/guide/share?lang=sv")
    await page.get_by_role("button", name="Skicka förslaget").click()
    summary = page.locator(".error-summary")
    await summary.wait_for()
    assert "Skriv en rubrik för exemplet." in await summary.inner_text()
    await checked(page, live_server)

    await page.get_by_label("Rubrik").fill("Strukturbild för landsbygdsutveckling")
    await page.get_by_label("Organisation").fill("Exempelkommun")
    await page.get_by_label("Exemplet på 30 sekunder").fill("Vi ritade en strukturbild.")
    await page.get_by_label("Namn").fill("Åsa Öberg")
    await page.get_by_label("E-postadress").fill("asa@kommun.example.se")
    await page.get_by_label("Jag godkänner att uppgifterna hanteras enligt ovan.").check()
    await page.get_by_role("button", name="Skicka förslaget").click()
    await page.wait_for_url(re.compile(r"/guide/share/sent$"))
    assert "Tack för ditt förslag" in await page.locator("h1").inner_text()
    await checked(page, live_server)

    organiser = await signed_in_page(visitor, services)
    await organiser.set_viewport_size({"width": 320, "height": 700})
    await organiser.get_by_role("link", name="Förslag till guiden").click()
    await organiser.wait_for_url(re.compile(r"/organiser/guide/proposals$"))
    await checked(organiser, live_server)
    await organiser.get_by_role("link", name="Strukturbild för landsbygdsutveckling").click()
    await organiser.wait_for_url(re.compile(r"/organiser/guide/proposals/\d+$"))
    await checked(organiser, live_server)
    await organiser.get_by_role("button", name="Avböj förslaget").click()
    await organiser.locator(".error-summary").wait_for()
    await checked(organiser, live_server)


async def test_searching_the_guide_in_both_languages_at_320_px(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await load_demo(services, only_if_empty=False)
    page = await visitor.page(viewport={"width": 320, "height": 700})
    for language in ("sv", "en"):
        await page.goto(f"{live_server}/guide?lang={language}")
        await page.locator("#guide-q").fill("strukturbild")
        await page.locator("#guide-q").press("Enter")
        await page.locator("mark").first.wait_for()
        await checked(page, live_server)
    await page.goto(f"{live_server}/guide?q=far")
    assert await page.locator("mark").count() == 0
    await checked(page, live_server)
