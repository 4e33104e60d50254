"""The event form's choice for a time the clocks repeat, in Chromium at 320 px: the message
on the field, the two readings as radio buttons chosen by their labels, axe-core (WCAG 2.1
AA) clean in Swedish and English, nothing wider than the screen; a skipped time is refused
on the field."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Page
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from tests.browser import Visitor, axe_violations
from tests.signing_in import PASSWORD, add

WIDTH = 320


async def signed_in(visitor: Visitor, services: Services) -> Page:
    await add(services, "olle@myndigheten.example.se")
    page = await visitor.page()
    await page.set_viewport_size({"width": WIDTH, "height": 800})
    await page.goto(f"{visitor.base}/organiser/login")
    await page.get_by_label("E-postadress").fill("olle@myndigheten.example.se")
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(f"{visitor.base}/organiser/")
    return page


async def checked(page: Page, base: str) -> None:
    violations = await axe_violations(page, base)
    assert violations == [], (page.url, violations)
    scrolled = await page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= WIDTH, (page.url, scrolled)


async def fill_times(page: Page, starts: str, ends: str) -> None:
    await page.get_by_label("Börjar").fill(starts)
    await page.get_by_label("Slutar").fill(ends)


async def test_choosing_which_0230_at_320_px(services: Services, visitor: Visitor) -> None:
    base = visitor.base
    page = await signed_in(visitor, services)
    await page.goto(f"{base}/organiser/events/new?lang=sv")
    await page.get_by_label("Titel").fill("Nattkafé")

    # The spring gap: refused on the field, no choice offered.
    await fill_times(page, "2027-03-28T02:30", "2027-03-28T04:00")
    await page.get_by_role("button", name="Spara utkast").click()
    await page.wait_for_selector(".error-summary")
    assert "02.30 finns inte den natten" in await page.locator("#error-starts_at").inner_text()
    assert await page.locator('input[name="starts_at_offset"]').count() == 0
    await checked(page, base)

    # The autumn fold: the two readings, neither chosen for the organiser.
    await fill_times(page, "2027-10-31T02:30", "2027-10-31T03:30")
    await page.get_by_role("button", name="Spara utkast").click()
    await page.wait_for_selector("#field-starts_at_offset")
    error = await page.locator("#error-starts_at").inner_text()
    assert "02.30 finns två gånger den natten" in error
    summer = page.get_by_label("02.30 (sommartid), UTC+02:00")
    standard = page.get_by_label("02.30 (normaltid), UTC+01:00")
    assert not await summer.is_checked()
    assert not await standard.is_checked()
    assert await page.get_by_label("Börjar").input_value() == "2027-10-31T02:30"
    await checked(page, base)

    # The same page in English.
    await page.goto(f"{base}/organiser/events/new?lang=en")
    await page.get_by_label("Title").fill("Night café")
    await page.get_by_label("Starts").fill("2027-10-31T02:30")
    await page.get_by_label("Ends").fill("2027-10-31T03:30")
    await page.get_by_role("button", name="Save draft").click()
    await page.wait_for_selector("#field-starts_at_offset")
    assert await page.get_by_label("02:30 (standard time), UTC+01:00").count() == 1
    await checked(page, base)

    # Chosen by keyboard: the second reading, then saved.
    await page.goto(f"{base}/organiser/events/new?lang=sv")
    await page.get_by_label("Titel").fill("Nattkafé")
    await fill_times(page, "2027-10-31T02:30", "2027-10-31T03:30")
    await page.get_by_role("button", name="Spara utkast").click()
    await page.wait_for_selector("#field-starts_at_offset")
    await page.get_by_label("02.30 (normaltid), UTC+01:00").focus()
    await page.keyboard.press("Space")
    await page.get_by_role("button", name="Spara utkast").click()
    await page.wait_for_url(f"{base}/organiser/events/*")
    async with services.transaction() as session:
        starts = await session.scalar(select(Event.starts_at))
    assert starts == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
