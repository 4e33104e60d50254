"""The attendee list read on a phone in Chromium at 320 px: each person is one short block
with labelled facts ("Bokningstid: …"), every "Avboka" button on the screen, no empty lines
for facts nobody gave, nothing wider than the screen, and axe-core's WCAG 2.1 AA rules pass.
On a wide screen it stays a table whose booking column is called "Bokningstid"."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, ViewportSize

from foundation.services import Services
from registrations import booking
from tests.browser import Visitor, assert_accessible, signed_in_page
from tests.conftest import SECRET
from tests.factories import book, make_event, person

PHONE: ViewportSize = {"width": 320, "height": 640}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


async def labels_shown(page: Page) -> set[str]:
    """The labels the list's cells show before their values (CSS generated content)."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('table.attendee-table td')]
            .map(td => getComputedStyle(td, '::before').content)
            .filter(c => c && c !== 'none' && c !== 'normal')
            .map(c => JSON.parse(c))"""
    )
    return set(found)


async def test_the_attendee_list_reads_on_a_320_px_phone(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    event = await make_event(services, capacity=2, title="Lunchkafé om samhällsplanering")
    await book(services, event.id, 1)
    long_address = "anna-karin.lindqvist-oberg@samhallsbyggnadsforvaltningen.example.se"
    async with services.transaction() as session:
        await booking.book(
            session,
            event_id=event.id,
            attendee=person(2, email=long_address, organisation="", name="Anna-Karin Lindqvist"),
            secret_key=SECRET,
        )
    await book(services, event.id, 3)  # in line

    page = await signed_in_page(visitor, services)
    await page.set_viewport_size(PHONE)
    await page.goto(f"{live_server}/organiser/events/{event.id}/attendees")
    await assert_accessible(page, live_server)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "attendees-320.png"), full_page=True)

    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, width
    buttons = page.locator("main button:has-text('Avboka')")
    assert await buttons.count() == 3
    for n in range(3):
        box = await buttons.nth(n).bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= 320, box
    # Each person is a block of labelled facts, not a row squeezed into 320 px.
    assert await labels_shown(page) >= {"Bokningstid: ", "E-postadress: ", "Plats i kön: "}
    rows = page.locator("table.attendee-table tbody tr")
    for n in range(await rows.count()):
        box = await rows.nth(n).bounding_box()
        assert box is not None
        assert box["height"] < 260, box
    # No line for an organisation nobody gave.
    empty = await page.evaluate(
        """() => [...document.querySelectorAll('table.attendee-table td')]
            .filter(td => td.innerText.trim() === '' && td.getBoundingClientRect().height > 0)
            .length"""
    )
    assert empty == 0

    await page.set_viewport_size({"width": 1200, "height": 800})
    header = page.locator("table.attendee-table thead th:has-text('Bokningstid')").first
    assert await header.is_visible()
    assert await labels_shown(page) == set()
    await assert_accessible(page, live_server)
