"""A process step's sessions in Chromium (issue 12 item 1): the demo's process page with the
workshop under its first step, axe-core's WCAG 2.1 AA rules in Swedish and English at a
phone's 320 px, nothing wider than the screen, and the step's booking link leading to the
workshop's booking form."""

from __future__ import annotations

from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from lunchkafe.demo import load_demo
from tests.browser import Visitor, assert_accessible

WIDE = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
PROCESS = "/guide/processes/platsutveckling-i-sex-steg"


async def test_a_steps_sessions_are_accessible_at_320_px_in_both_languages(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        workshop = await session.scalar(
            select(Event.id).where(Event.title.startswith("Platsutveckling i sex steg"))
        )
    page = await visitor.page(viewport={"width": 320, "height": 700})
    for language in ("sv", "en"):
        answer = await page.goto(f"{live_server}{PROCESS}?lang={language}")
        assert answer is not None
        assert answer.status == 200
        assert await page.evaluate("document.documentElement.lang") == language
        sessions = page.locator(".step").first.locator(".step-sessions")
        assert await sessions.is_visible()
        assert await sessions.locator("li").count() == 1
        assert await page.locator(".step-sessions").count() == 1  # the first step's only
        await assert_accessible(page, live_server)
        assert not await page.evaluate(WIDE), language
        # Everything of the session stays inside the screen's width.
        right = await sessions.evaluate("e => e.getBoundingClientRect().right")
        assert right <= 320

    await page.goto(f"{live_server}{PROCESS}?lang=sv")
    step = page.locator(".step").first
    await step.get_by_role("link", name="Boka plats").click()
    await page.wait_for_url(f"{live_server}/events/{workshop}#book-title")
    assert await page.get_by_role("heading", name="Boka plats").is_visible()
