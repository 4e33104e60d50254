"""The audit log on a phone: with every kind of entry in it (so the filter offers its
longest phrase), the page is no wider than a 320 px screen, and passes axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from foundation.services import Services
from organisers import audit
from organisers.audit_reading import PHRASES
from tests.browser import Visitor, assert_accessible
from tests.factories import make_event
from tests.signing_in import PASSWORD, add

BOSS = "boss@myndigheten.example.se"
WHEN = datetime(2026, 1, 14, 11, 0, tzinfo=UTC)


async def test_the_log_with_every_kind_of_entry_fits_a_320_px_screen(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    event = await make_event(services, title="Lunchkafé om samhällsplaneringens långa namn")
    async with services.transaction() as session:
        for n, code in enumerate(sorted(PHRASES) * 2):
            await audit.record(
                session,
                None,
                code,
                f"event:{event.id}",
                now=WHEN + timedelta(minutes=n),
                fields="starts_at,ends_at,title,venue,join_url,capacity",
                invited=12,
                waitlist_told=3,
            )
    await add(services, BOSS, role="admin")
    page = await visitor.page()
    await page.goto(f"{live_server}/organiser/login")
    await page.get_by_label("E-postadress").fill(BOSS)
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(f"{live_server}/organiser/")
    await page.set_viewport_size({"width": 320, "height": 640})
    for language in ("sv", "en"):
        await page.goto(f"{live_server}/organiser/audit?lang={language}")
        assert await page.locator("tbody tr").count() >= 2 * len(PHRASES)
        assert await page.locator("#audit-action option").count() > len(PHRASES)
        widths = await page.evaluate(
            """() => ({
                page: document.documentElement.scrollWidth,
                filter: document.querySelector('#audit-action').getBoundingClientRect().right,
            })"""
        )
        assert widths["page"] <= 320, (language, widths)
        assert widths["filter"] <= 320, (language, widths)
        await assert_accessible(page, live_server)
