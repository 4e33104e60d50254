"""The check-in page and the attendee list with a value nobody can break, in Chromium.

A walk of the organiser workspace found an organisation typed as
'=HYPERLINK("http://evil.example","klicka")' making the check-in page 362 px wide on a
320 px phone (WCAG 2.1 1.4.10 Reflow), the first person's buttons some 915 px down, the
heading broken mid-word ("incheckningste / st"), and at 1280 px the attendee table wider
than its box, with "Avboka …" out of sight. Long values wrap now; the heading keeps its
words whole; the list is near the top of a phone's screen.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, ViewportSize

from foundation.services import Services
from registrations import booking
from tests.browser import Visitor, assert_accessible
from tests.conftest import SECRET
from tests.factories import book, make_event, on_the_day, person
from tests.signing_in import PASSWORD, add

# How a page is laid out does not depend on the database.
pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)

PHONE: ViewportSize = {"width": 320, "height": 640}
DESK: ViewportSize = {"width": 1280, "height": 900}
UNBREAKABLE = '=HYPERLINK("http://evil.example","klicka")'
ADMIN = "ada@myndigheten.example.se"

# Words of the page's h1 that do not fit its width on one line, so the browser breaks them.
BROKEN_WORDS = """() => {
    const h1 = document.querySelector("main h1");
    const style = getComputedStyle(h1);
    const probe = document.createElement("span");
    probe.style.font = style.font;
    probe.style.whiteSpace = "nowrap";
    probe.style.position = "absolute";
    document.body.append(probe);
    const broken = h1.textContent.trim().split(/\\s+/).filter((word) => {
        probe.textContent = word;
        return probe.getBoundingClientRect().width > h1.clientWidth;
    });
    probe.remove();
    return broken;
}"""


async def admin_page(visitor: Visitor, services: Services) -> Page:
    """Signed in as an admin, whose menu is the longest."""
    await add(services, ADMIN, role="admin")
    page = await visitor.page()
    await page.goto(f"{visitor.base}/organiser/login")
    await page.get_by_label("E-postadress").fill(ADMIN)
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(f"{visitor.base}/organiser/")
    return page


async def event_with_a_long_organisation(services: Services, *, today: bool) -> int:
    event = await make_event(services, capacity=2, title="Kvällskafé: incheckningstest")
    async with services.transaction() as session:
        await booking.book(
            session,
            event_id=event.id,
            attendee=person(1, name="Dora Dahl", organisation=UNBREAKABLE),
            secret_key=SECRET,
        )
    await book(services, event.id, 2)
    await book(services, event.id, 3)  # in line
    if today:
        await on_the_day(services, event.id)
    return event.id


async def page_width(page: Page) -> int:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


async def test_check_in_fits_a_320_px_phone_with_the_list_near_the_top(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    event_id = await event_with_a_long_organisation(services, today=True)
    page = await admin_page(visitor, services)
    await page.set_viewport_size(PHONE)
    await page.goto(f"{live_server}/organiser/events/{event_id}/check-in")

    assert await page_width(page) <= 320
    assert await page.evaluate(BROKEN_WORDS) == []
    first = page.locator("#check-in-list button").first
    assert await first.text_content() == "Närvarande: Dora Dahl"
    box = await first.bounding_box()
    assert box is not None
    # On the first screen of a small phone, below the site's and the workspace's menus.
    assert box["y"] + box["height"] <= PHONE["height"], box
    # A keyboard or switch user gets past both menus to the list with one link.
    skip = page.locator("a.skip-link[href='#check-in-list']")
    assert await skip.count() == 1
    await skip.focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused == "Närvarande: Dora Dahl"
    await assert_accessible(page, live_server)

    # Not yet the day: the page says when check-in opens, and still fits.
    later = await event_with_a_long_organisation(services, today=False)
    await page.goto(f"{live_server}/organiser/events/{later}/check-in")
    assert await page_width(page) <= 320
    assert await page.evaluate(BROKEN_WORDS) == []


async def test_the_attendee_list_fits_a_320_px_phone_with_a_long_organisation(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    event_id = await event_with_a_long_organisation(services, today=False)
    page = await admin_page(visitor, services)
    await page.set_viewport_size(PHONE)
    await page.goto(f"{live_server}/organiser/events/{event_id}/attendees")
    assert await page_width(page) <= 320
    assert await page.evaluate(BROKEN_WORDS) == []


async def test_the_attendee_table_fits_its_box_at_1280_px_with_a_long_organisation(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    event_id = await event_with_a_long_organisation(services, today=False)
    page = await admin_page(visitor, services)
    await page.set_viewport_size(DESK)
    await page.goto(f"{live_server}/organiser/events/{event_id}/attendees")

    boxes = page.locator(".table-scroll")
    for n in range(await boxes.count()):
        overflow = await boxes.nth(n).evaluate("(box) => box.scrollWidth - box.clientWidth")
        assert overflow <= 0, (n, overflow)
    buttons = page.locator("main button:has-text('Avboka')")
    assert await buttons.count() == 3
    for n in range(3):
        box = await buttons.nth(n).bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= DESK["width"], box
    for header in ("Organisation", "Bokningstid"):
        th = page.locator(f"table.attendee-table thead th:has-text('{header}')").first
        clipped = await th.evaluate(
            """(th) => {
                const box = th.getBoundingClientRect();
                const frame = th.closest('.table-scroll').getBoundingClientRect();
                return box.right > frame.right + 0.5 || th.scrollWidth > th.clientWidth;
            }"""
        )
        assert not clipped, header
    await assert_accessible(page, live_server)
