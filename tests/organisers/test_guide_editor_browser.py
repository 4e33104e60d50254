"""The guide's editor in Chromium with axe-core's WCAG 2.1 AA rules, in Swedish and at a
phone's width: the list, an example's edit page previewed, and a process's page with errors."""

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


async def test_editing_the_guide_by_keyboard_at_320_px(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await load_demo(services, only_if_empty=False)
    page = await signed_in_page(visitor, services)
    await page.set_viewport_size({"width": 320, "height": 700})
    await page.get_by_role("link", name="Guiden", exact=True).click()
    await page.wait_for_url(re.compile(r"/organiser/guide$"))
    await checked(page, live_server)

    await page.goto(f"{live_server}/organiser/guide/examples/ystad-regional-karna")
    await page.get_by_label("Beskrivning").fill("Det började med **ett möte**.")
    await page.get_by_role("button", name="Förhandsgranska").click()
    preview = page.get_by_role("region", name="Förhandsgranskning")
    await preview.wait_for()
    assert "ett möte" in await preview.locator("strong").inner_text()
    await checked(page, live_server)

    await page.goto(f"{live_server}/organiser/guide/processes/platsutveckling-i-sex-steg")
    assert "## " in await page.get_by_label("Faser och steg").input_value()
    await page.get_by_label("Rubrik").fill("")
    await page.get_by_role("button", name="Spara").click()
    await page.locator(".error-summary").wait_for()
    await checked(page, live_server)
