"""The series and events pages in Chromium: an organiser plans a series by keyboard and mouse,
and every page passes axe-core (WCAG 2.1 AA) in Swedish and English, errors shown too."""

from __future__ import annotations

from foundation.services import Services
from guide.catalogue import add_example, link_example
from lunchkafe.demo import load_demo
from tests.browser import Visitor, assert_accessible, signed_in_page
from tests.factories import make_event


async def test_series_and_event_pages_pass_axe_in_both_languages(
    services: Services, visitor: Visitor
) -> None:
    await load_demo(services, only_if_empty=False)
    event = await make_event(services, title="Kafé med exempel", description="## Om\n\n**Fet**")
    draft = await make_event(services, title="Ett utkast", publish=False)
    async with services.transaction() as session:
        await add_example(
            session, slug="ett-exempel", title="Ett exempel", organisation="K", summary=""
        )
        await add_example(
            session, slug="tva-exempel", title="Två exempel", organisation="K", summary=""
        )
        await link_example(session, event_id=event.id, example_slug="ett-exempel", note="Läs först")
        await link_example(session, event_id=event.id, example_slug="tva-exempel", note="Sedan")
    page = await signed_in_page(visitor, services)
    base = visitor.base
    for language in ("sv", "en"):
        for path in (
            "/organiser/",
            "/organiser/events/new",
            f"/organiser/events/{event.id}",
            f"/organiser/events/{event.id}/edit",
            f"/organiser/events/{draft.id}",
            f"/organiser/events/{draft.id}/edit",
            f"/organiser/events/{draft.id}/delete",
            "/organiser/series/new",
            f"/events/{event.id}",
        ):
            await page.goto(f"{base}{path}?lang={language}")
            await assert_accessible(page, base)

    # Errors next to the fields, and the summary first.
    await page.goto(f"{base}/organiser/events/new?lang=sv")
    await page.get_by_role("button", name="Spara utkast").click()
    await page.wait_for_selector(".error-summary")
    await assert_accessible(page, base)

    # A series of four Wednesdays: the preview flags Trettondedag jul and leaves it unticked.
    await page.goto(f"{base}/organiser/series/new")
    await page.get_by_label("Titel").fill("Vinterkaféer")
    await page.get_by_label("Adress").fill("vinterkafeer")
    await page.get_by_label("Första datum").fill("2026-12-30")
    await page.get_by_label("Antal tillfällen").fill("4")
    await page.get_by_role("button", name="Visa datumen").click()
    await page.wait_for_selector("text=Helgdag: Trettondedag jul")
    await assert_accessible(page, base)
    assert not await page.get_by_label("onsdag 6 januari 2027", exact=False).is_checked()
    await page.get_by_role("button", name="Skapa serien").click()
    await page.wait_for_selector("text=Serien är skapad.")
    await assert_accessible(page, base)
