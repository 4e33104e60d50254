"""The attendees pages in Chromium: axe-core's WCAG 2.1 AA rules on each, and check-in on a
phone-sized screen, tapped without JavaScript, coming back to the same person's row."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page

from foundation.services import Services
from foundation.timestamps import utcnow
from organisers import accounts
from tests.browser import Visitor, axe_violations
from tests.factories import book, make_event, on_the_day

PASSWORD = "en lång lösenfras för kaféet"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


async def add(services: Services, email: str) -> None:
    """An organiser account (not an admin: an event's list is theirs too)."""
    async with services.transaction() as session:
        await accounts.add_organiser(
            session, email=email, name="Anna", role="organiser", password=PASSWORD, now=utcnow()
        )


async def signed_in_page(visitor: Visitor, base: str, **options: object) -> Page:
    page = await visitor.page(**options)
    await page.goto(f"{base}/organiser/login")
    await page.fill("input[name=email]", "anna@myndigheten.example.se")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/organiser/")
    return page


async def test_the_attendee_pages_pass_axe(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await add(services, "anna@myndigheten.example.se")
    event = await make_event(services, capacity=1)
    for n in (1, 2):
        await book(services, event.id, n)
    page = await signed_in_page(visitor, live_server)
    assert await axe_violations(page, live_server) == []  # the overview, with its new column
    await page.click(f"a[href='/organiser/events/{event.id}/attendees']")
    await page.wait_for_url(re.compile(r".*/attendees$"))
    assert await axe_violations(page, live_server) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "attendees.png"), full_page=True)
    await page.fill("#field-q", "person 2")
    await page.click("button:has-text('Sök')")
    await page.wait_for_url(re.compile(r".*/attendees\?q=person\+2$"))
    assert await axe_violations(page, live_server) == []

    # The event is full: "Ge plats" asks first, offering a seat beyond the capacity.
    await page.locator("button:has-text('Ge plats')").first.click()
    await page.wait_for_url(re.compile(r".*/promote$"))
    assert "Antalet platser höjs från 1 till 2" in await page.inner_text("main")
    assert await axe_violations(page, live_server) == []
    await page.go_back()

    await page.locator("button:has-text('Avboka')").first.click()
    await page.wait_for_url(re.compile(r".*/cancel$"))
    assert await axe_violations(page, live_server) == []

    await page.goto(f"{live_server}/organiser/events/{event.id}/attendees/new")
    assert await axe_violations(page, live_server) == []
    await page.click("button:has-text('Lägg till')")
    await page.wait_for_url(re.compile(r".*/attendees/new$"))
    assert "Det finns fel i formuläret" in await page.inner_text("main")
    assert await axe_violations(page, live_server) == []


async def test_check_in_on_a_phone_without_javascript(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await add(services, "anna@myndigheten.example.se")
    event = await make_event(services, capacity=30, title="Lunchkafé om bredband")
    for n in range(1, 21):
        await book(services, event.id, n)
    await on_the_day(services, event.id)
    page = await signed_in_page(
        visitor,
        live_server,
        java_script_enabled=False,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    await page.goto(f"{live_server}/organiser/events/{event.id}/check-in")
    row = page.locator("li.check-in-row").nth(15)
    row_id = await row.get_attribute("id")
    button = row.locator("button:has-text('Närvarande')")
    box = await button.bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a thumb's target (WCAG 2.5.5)
    assert box["width"] >= 44
    await button.click()
    await page.wait_for_url(re.compile(rf".*/check-in#{row_id}$"))
    again = page.locator(f"#{row_id}")
    assert "Närvarande" in await again.inner_text()
    assert await again.locator("button:has-text('Ångra')").count() == 1
    assert await again.is_visible()
    assert re.search(
        r"1\s+närvarande\s+0\s+uteblev\s+19\s+ej markerade", await page.inner_text("main")
    )
    # The page did not jump back to the top: the tapped row is on screen.
    top = await page.evaluate(f"document.getElementById('{row_id}').getBoundingClientRect().top")
    assert 0 <= top < 740
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "check-in-phone.png"))


async def test_check_in_passes_axe(services: Services, visitor: Visitor, live_server: str) -> None:
    await add(services, "anna@myndigheten.example.se")
    event = await make_event(services)
    for n in (1, 2, 3):
        await book(services, event.id, n)
    await on_the_day(services, event.id)
    page = await signed_in_page(visitor, live_server, viewport={"width": 375, "height": 740})
    await page.goto(f"{live_server}/organiser/events/{event.id}/check-in")
    assert await axe_violations(page, live_server) == []
    await page.locator("button:has-text('Uteblev')").first.click()
    await page.wait_for_url(re.compile(r".*/check-in#r-\d+$"))
    assert await axe_violations(page, live_server) == []
