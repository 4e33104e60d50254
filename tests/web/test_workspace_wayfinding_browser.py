"""The workspace's wayfinding in Chromium: the series planner opens at its dates after
"Visa datumen" (focus there), the overview reads on a 320 px phone with each event's status,
seats and mail in sight, the search and date boxes look like the site's other inputs (a
border of at least 3:1, WCAG 1.4.11, and room to type), the set-password page's "Visa
lösenordet" works with the site's own script, and the pages changed here pass axe-core at
1280 and 320 px, no wider than the screen."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.async_api import Page
from sqlalchemy import select

from events.models import Series
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage
from organisers import password_links
from tests.browser import Visitor, axe_violations, signed_in_page
from tests.conftest import SECRET
from tests.factories import add_confirmed, make_event, make_series

WIDTHS = (1280, 320)

# The contrast of an input's border against the page behind it (WCAG 2.1 relative luminance).
BORDER_CONTRAST = """(selector) => {
    const lum = (css) => {
        const [r, g, b] = css.match(/[0-9.]+/g).slice(0, 3).map(Number).map(v => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const box = document.querySelector(selector);
    const style = getComputedStyle(box);
    const a = lum(style.borderTopColor), b = lum(getComputedStyle(document.body).backgroundColor);
    return {
        contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
        border: parseFloat(style.borderTopWidth),
        width: box.getBoundingClientRect().width,
    };
}"""


async def checked(page: Page, base: str) -> None:
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        violations = await axe_violations(page, base)
        assert violations == [], (page.url, width, violations)
        scrolled = await page.evaluate("document.documentElement.scrollWidth")
        assert scrolled <= width, (page.url, width, scrolled)


async def looks_like_an_input(page: Page, selector: str) -> None:
    seen = await page.evaluate(BORDER_CONTRAST, selector)
    assert seen["contrast"] >= 3, (selector, seen)
    assert seen["border"] >= 1, (selector, seen)
    assert seen["width"] >= 160, (selector, seen)


async def test_the_planner_opens_at_its_dates(services: Services, visitor: Visitor) -> None:
    page = await signed_in_page(visitor, services)
    base = visitor.base
    await page.goto(f"{base}/organiser/series/new")
    first = date.today() + timedelta(days=28)
    first += timedelta(days=(2 - first.weekday()) % 7)
    await page.get_by_label("Titel").fill("Lunchkaféer på Åland öst")
    await page.get_by_label("Första datum").fill(first.isoformat())
    await page.get_by_role("button", name="Visa datumen").click()
    await page.wait_for_url(f"{base}/organiser/series/new#dates")
    heading = page.get_by_role("heading", name="4 datum – kontrollera och skapa")
    await heading.wait_for()
    assert await page.evaluate("document.activeElement.id") == "dates"
    top = await page.evaluate("document.getElementById('dates').getBoundingClientRect().top")
    assert 0 <= top < 200, top  # at the top of the window, not 2,000 px below
    await checked(page, base)
    await page.get_by_role("button", name="Skapa serien").click()
    await page.get_by_text("Serien är skapad").wait_for()
    async with services.transaction() as session:
        assert list(await session.scalars(select(Series.slug))) == ["lunchkafeer-pa-aland-ost"]


async def test_the_overview_and_the_boxes_on_a_phone(services: Services, visitor: Visitor) -> None:
    events = await make_series(services, events=2)
    await add_confirmed(services, events[0].id, range(2))
    page = await signed_in_page(visitor, services)
    base = visitor.base
    await checked(page, base)
    await page.set_viewport_size({"width": 320, "height": 800})
    # Every cell of an event's row (when, status, seats, line, attendees, mail) in sight.
    cells = page.locator("main table tbody tr").first.locator("td")
    assert await cells.count() == 6
    for n in range(6):
        box = await cells.nth(n).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 320, (n, box)

    await page.goto(f"{base}/organiser/events/{events[0].id}/attendees")
    await checked(page, base)
    await page.set_viewport_size({"width": 320, "height": 800})
    await looks_like_an_input(page, "#field-q")

    await page.goto(f"{base}/organiser/series/{events[0].series_id}")
    await page.set_viewport_size({"width": 320, "height": 800})
    await looks_like_an_input(page, "#field-day")


async def test_the_changed_workspace_pages_pass_axe(services: Services, visitor: Visitor) -> None:
    booked = await make_event(services)
    await add_confirmed(services, booked.id, range(1))
    page = await signed_in_page(visitor, services)
    base = visitor.base
    for path in ("", "/cancel", "/change", "/reminder", "/messages", "/outbox"):
        await page.goto(f"{base}/organiser/events/{booked.id}{path}")
        await checked(page, base)
    await page.goto(f"{base}/organiser/events/{booked.id}/cancel")
    await page.get_by_role("button", name="Förhandsgranska").click()
    await checked(page, base)
    await page.get_by_role("button", name="Ställ in ").click()
    await page.get_by_text("Evenemanget är inställt.").wait_for()
    await checked(page, base)
    await page.goto(f"{base}/organiser/accounts")
    await page.get_by_role("link", name="Till översikten").click()
    await page.wait_for_url(f"{base}/organiser/")


async def test_showing_the_password_while_choosing_it(services: Services, visitor: Visitor) -> None:
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
    token = password_links.derive_token(SECRET, row.payload["nonce"])
    page = await visitor.page()
    base = visitor.base
    await page.goto(f"{base}/organiser/password/{token}")
    await checked(page, base)
    password = page.get_by_label("Nytt lösenord")
    await password.fill("ett helt nytt lösenord för hösten")
    await page.get_by_label("Samma lösenord en gång till").fill("ett helt nytt lösenord")
    await page.get_by_label("Visa lösenordet").check()
    assert await password.get_attribute("type") == "text"
    await page.get_by_label("Visa lösenordet").uncheck()
    assert await password.get_attribute("type") == "password"
    await page.get_by_role("button", name="Spara lösenordet och logga in").click()
    await page.get_by_text("Lösenorden är inte likadana").first.wait_for()
    await checked(page, base)
    await password.fill("ett helt nytt lösenord för hösten")
    await page.get_by_label("Samma lösenord en gång till").fill("ett helt nytt lösenord för hösten")
    await page.get_by_role("button", name="Spara lösenordet och logga in").click()
    await page.wait_for_url(f"{base}/organiser/")
    await page.get_by_text("Lösenordet är sparat.").wait_for()
