"""A series' page in Chromium: reached from the overview, every date listed, all drafts
published after the confirmation, a guide example linked to the whole series, and every
page of it passing axe-core (WCAG 2.1 AA) in Swedish and English, errors shown too, no
wider than the screen at 1280 and 320 px."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page
from sqlalchemy import select

from events.models import Event, EventStatus, Series
from foundation.services import Services
from guide.catalogue import add_example
from tests.browser import Visitor, axe_violations, signed_in_page
from tests.factories import SOON, add_confirmed, make_event, make_series

WIDTHS = (1280, 320)


async def checked(page: Page, base: str) -> None:
    """No axe-core violation, and nothing wider than the screen, at each width."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        violations = await axe_violations(page, base)
        assert violations == [], (page.url, width, violations)
        scrolled = await page.evaluate("document.documentElement.scrollWidth")
        assert scrolled <= width, (page.url, width, scrolled)


async def test_a_series_page_by_mouse_and_keyboard_in_both_languages(
    services: Services, visitor: Visitor
) -> None:
    published = await make_series(services, events=2)
    for n in (2, 3):
        await make_event(
            services,
            title="Lunchkafé om förenkling i kommunernas bygglovsprocesser",
            series_slug="cafeer",
            publish=False,
            starts_at=SOON + timedelta(days=7 * n),
            ends_at=SOON + timedelta(days=7 * n, hours=1),
        )
    await add_confirmed(services, published[0].id, range(2))
    async with services.transaction() as session:
        await add_example(
            session,
            slug="varberg",
            title="Så förenklade Varberg bygglovsprocessen",
            organisation="Varbergs kommun",
            summary="",
        )
        series_id = await session.scalar(select(Series.id))
    base = visitor.base
    page = await signed_in_page(visitor, services)

    # From the overview to the series' page.
    await page.get_by_role("link", name="Serien: Lunchkaféer").first.click()
    await page.wait_for_url(f"{base}/organiser/series/{series_id}")
    assert await page.locator("tbody tr").count() == 4
    for language in ("sv", "en"):
        for path in ("", "/edit", "/publish", "/registration"):
            await page.goto(f"{base}/organiser/series/{series_id}{path}?lang={language}")
            await checked(page, base)
    await page.goto(f"{base}/organiser/series/{series_id}?lang=sv")

    # Errors: next to the field, the summary first, what was typed kept.
    await page.get_by_label("Lägg till ett datum").fill("2001-01-03")
    await page.get_by_role("button", name="Lägg till datumet").click()
    await page.wait_for_selector(".error-summary")
    assert await page.get_by_label("Lägg till ett datum").input_value() == "2001-01-03"
    await checked(page, base)
    await page.goto(f"{base}/organiser/series/{series_id}/registration")
    await page.get_by_label("Ett antal dagar före start").check()
    await page.get_by_label("Dagar före start", exact=True).fill("999")
    await page.get_by_role("button", name="Spara för alla datum").click()
    await page.wait_for_selector(".error-summary")
    await checked(page, base)

    # A guide example linked to every date, by keyboard.
    await page.goto(f"{base}/organiser/series/{series_id}")
    await page.get_by_label("Koppla ett exempel till hela serien").focus()
    await page.keyboard.press("Tab")
    await page.keyboard.type("Läs före träffen.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.get_by_text("Exemplet är kopplat till 4 datum.").wait_for()
    await checked(page, base)

    # Publish all drafts: the confirmation lists both, then they are published.
    await page.get_by_role("link", name="Publicera alla utkast").click()
    await page.wait_for_url(f"{base}/organiser/series/{series_id}/publish")
    assert await page.locator(".series-drafts li").count() == 2
    await page.get_by_role("button", name="Ja, publicera 2 datum").click()
    await page.get_by_text("2 datum är publicerade").wait_for()
    await checked(page, base)
    async with services.transaction() as session:
        statuses = set(await session.scalars(select(Event.status)))
    assert statuses == {EventStatus.PUBLISHED}
