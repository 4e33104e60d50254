"""The public pages in a real headless Chromium, against a real uvicorn and a SQLite database.

What a visitor sees and does: the calendar, booking (with and without mistakes), the waitlist
moving up when someone cancels, keyboard-only use, use without JavaScript, and axe-core's
WCAG 2.1 A/AA rules on every page.

Needs Debian's chromium and the npm package axe-core in tests/js/node_modules:
`bash scripts/test-deps.sh` installs both. Without them these tests are skipped, except under
CI=true, where they fail.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from lunchkafe.demo import load_demo
from registrations import booking
from registrations.feeds import feed_for, feed_token
from registrations.organising import cancel_event
from registrations.overviews import CALENDAR_PAGE
from tests.browser import RECEIVED, Visitor, axe_violations, fill_booking
from tests.factories import SOON, mailed_manage_token, make_event, make_series, person

if TYPE_CHECKING:
    from playwright.async_api import Page

# Browser tests run on SQLite only: the database layer is covered on both engines elsewhere.
pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


SERIES_TITLE = "Digitala lunchkaféer om levande landsbygder"
WORKSHOP_TITLE = "Platsutveckling i sex steg – från förankring till långsiktig organisering"
ERROR_SUMMARY_TITLE = "Det finns fel i formuläret"
MSG_NAME = "Skriv ditt namn."
MSG_EMAIL = "Skriv din e-postadress."
MSG_CONSENT = "Du behöver godkänna hur vi hanterar dina personuppgifter för att boka."


@pytest.fixture
async def page(visitor: Visitor) -> Page:
    return await visitor.page()


@pytest.fixture
async def demo(services: Services) -> Services:
    await load_demo(services, only_if_empty=False)
    return services


async def event_id(services: Services, title: str) -> int:
    async with services.transaction() as session:
        found = await session.scalar(select(Event.id).where(Event.title == title))
    assert found is not None, title
    return found


async def book_directly(services: Services, event: int, n: int) -> str:
    """A booking made behind the scenes (someone else); returns its manage token."""
    async with services.transaction() as session:
        result = await booking.book(
            session,
            event_id=event,
            attendee=person(n),
            secret_key=services.settings.secret_key,
            tz_name=services.settings.timezone,
        )
    assert result.manage_token is not None, "a new booking has a manage link"
    return result.manage_token


async def book_in_browser(
    page: Page, base: str, services: Services, event: int, name: str, email: str
) -> str:
    """Book from the event page as a visitor would, then open the link mailed to them;
    returns the manage page's URL."""
    await page.goto(f"{base}/events/{event}")
    await fill_booking(page, name, email)
    await page.locator("form[action$='/book'] button[type=submit]").click()
    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    assert email in await page.locator(".notice").inner_text()
    await page.goto(f"{base}/manage/{await mailed_manage_token(services, event, email)}")
    return page.url


async def spoken(page: Page, selector: str) -> str:
    """An element's text as a screen reader reads it, visually hidden parts included."""
    text = await page.locator(selector).text_content()
    return " ".join((text or "").split())


async def status_text(page: Page) -> str:
    return (await page.locator("dt:text-is('Status') + dd").inner_text()).strip()


async def focused(page: Page) -> dict[str, str]:
    info: dict[str, str] = await page.evaluate(
        """() => {
            const el = document.activeElement;
            return {id: el.id, tag: el.tagName.toLowerCase(), text: el.textContent.trim(),
                    outline: getComputedStyle(el).outlineStyle};
        }"""
    )
    return info


# --- What a new visitor recognises -------------------------------------------------------


async def test_home_lists_the_demo_series_and_workshop_with_seats_left(
    demo: Services, live_server: str, page: Page
) -> None:
    await page.goto(live_server)
    assert await page.title() == "Kommande lunchkaféer och workshoppar – Lunchkafé"
    await page.get_by_role(
        "heading", level=1, name="Kommande lunchkaféer och workshoppar"
    ).wait_for()

    series_link = page.locator("ul.series-list").get_by_role("link", name=SERIES_TITLE)
    assert await series_link.count() == 1
    href = await series_link.first.get_attribute("href")
    assert href is not None
    assert href.endswith("/series/levande-landsbygder")

    cafe = page.locator(".event-card", has_text="Levande landsbygder: lokala utvecklingsmodeller")
    assert "40 platser kvar" in await cafe.inner_text()
    smallest = page.locator(".event-card", has_text="Levande landsbygder: planering som håller")
    assert "8 platser kvar" in await smallest.inner_text()

    workshop = page.locator(".event-card", has_text=WORKSHOP_TITLE)
    await workshop.get_by_role("link", name=WORKSHOP_TITLE).wait_for()
    assert "25 platser kvar" in await workshop.inner_text()
    assert "Exempel ur Utvecklingsguiden:" in await workshop.inner_text()
    # Each card says where: the workshop in Stockholm, the cafés online.
    assert "Tillväxthuset, Stockholm" in await workshop.locator(".where").inner_text()
    assert (await cafe.locator(".where").inner_text()).split() == ["Var:", "Digitalt"]
    # The calendar is one list in date order.
    starts = [
        str(await card.get_attribute("data-starts"))
        for card in await page.locator(".event-card").all()
    ]
    assert starts == sorted(starts)

    # The calendar leads to the event page.
    await workshop.get_by_role("link", name=WORKSHOP_TITLE).click()
    await page.get_by_role("heading", level=1, name=WORKSHOP_TITLE).wait_for()
    assert "Tillväxthuset, Stockholm" in await page.locator(".facts").inner_text()


async def test_home_shows_each_series_once(demo: Services, live_server: str, page: Page) -> None:
    await page.goto(live_server)
    assert await page.locator("ul.series-list").get_by_role("link", name=SERIES_TITLE).count() == 1
    assert await page.locator(".event-card", has_text=f"I serien {SERIES_TITLE}").count() == 4


async def test_empty_booking_shows_error_summary_and_keeps_what_was_typed(
    demo: Services, live_server: str, page: Page
) -> None:
    workshop = await event_id(demo, WORKSHOP_TITLE)
    await page.goto(f"{live_server}/events/{workshop}")
    await page.get_by_role("button", name="Boka plats").click()

    summary = page.get_by_role("alert")
    await summary.get_by_role("heading", name=ERROR_SUMMARY_TITLE).wait_for()
    assert (await page.title()).startswith("Fel: ")
    # The summary comes first in the content, before the event's heading, and has focus.
    assert await page.evaluate(
        """() => {
            const summary = document.querySelector('.error-summary');
            const h1 = document.querySelector('main h1');
            return Boolean(summary.compareDocumentPosition(h1) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    # autofocus is applied after the page has loaded; wait for it rather than race it.
    await page.wait_for_function(
        "() => document.activeElement?.classList.contains('error-summary')", timeout=10_000
    )
    assert (await focused(page))["text"].startswith(ERROR_SUMMARY_TITLE)
    links = summary.get_by_role("link")
    assert [
        (await link.inner_text(), await link.get_attribute("href")) for link in await links.all()
    ] == [
        (MSG_NAME, "#field-name"),
        (MSG_EMAIL, "#field-email"),
        (MSG_CONSENT, "#field-consent"),
    ]
    # Each field says what is wrong, and the message is tied to the field.
    name = page.get_by_label("Namn", exact=True)
    email = page.get_by_label("E-postadress", exact=True)
    consent = page.get_by_label("Jag godkänner att mina uppgifter hanteras enligt ovan.")
    assert await spoken(page, "#error-name") == f"Fel: {MSG_NAME}"
    assert await spoken(page, "#error-email") == f"Fel: {MSG_EMAIL}"
    assert await spoken(page, "#error-consent") == f"Fel: {MSG_CONSENT}"
    assert await name.get_attribute("aria-invalid") == "true"
    assert "error-email" in (await email.get_attribute("aria-describedby") or "")
    assert await consent.get_attribute("aria-invalid") == "true"
    # A link in the summary takes you to the field.
    await summary.get_by_role("link", name=MSG_EMAIL).click()
    assert (await focused(page))["id"] == "field-email"

    # Second try with only some of it: what was typed stays, only what is missing is flagged.
    await name.fill("Ada Lindqvist")
    await page.get_by_label("Organisation").fill("Exempelkommun")
    await email.fill("ada@")
    async with page.expect_navigation():  # the same URL again, so wait for the new page
        await page.get_by_role("button", name="Boka plats").click()
    await summary.get_by_role("heading", name=ERROR_SUMMARY_TITLE).wait_for()
    assert [await link.inner_text() for link in await summary.get_by_role("link").all()] == [
        "Skriv en giltig e-postadress, till exempel namn@kommun.se.",
        MSG_CONSENT,
    ]
    assert await name.input_value() == "Ada Lindqvist"
    assert await email.input_value() == "ada@"
    assert await page.get_by_label("Organisation").input_value() == "Exempelkommun"
    assert await page.locator("#error-name").count() == 0
    assert await name.get_attribute("aria-invalid") is None
    assert not await consent.is_checked()


async def test_switching_language_after_a_failed_booking_stays_on_the_event(
    demo: Services, live_server: str, page: Page
) -> None:
    workshop = await event_id(demo, WORKSHOP_TITLE)
    await page.goto(f"{live_server}/events/{workshop}")
    await page.get_by_role("button", name="Boka plats").click()
    await page.get_by_role("heading", name=ERROR_SUMMARY_TITLE).wait_for()

    async with page.expect_navigation() as navigation:
        await page.get_by_role("navigation").get_by_role("link", name="English").click()
    response = await navigation.value
    assert response is not None
    assert response.status == 200, f"{page.url} answered {response.status}"
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.get_by_role("heading", level=1).inner_text() == WORKSHOP_TITLE
    await page.get_by_role("navigation").get_by_role("link", name="Svenska").wait_for()


async def test_filled_in_booking_confirms_the_seat(
    demo: Services, live_server: str, page: Page
) -> None:
    workshop = await event_id(demo, WORKSHOP_TITLE)
    await page.goto(f"{live_server}/events/{workshop}")
    await fill_booking(page, "Ada Lindqvist", "ada@kommun.example.se")
    await page.get_by_role("button", name="Boka plats").click()

    # The answer says where the mail went, and nothing about the booking itself: the same
    # answer is given to anyone who types this address (registrations/receipt.py).
    notice = page.locator(".notice")
    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    assert "ada@kommun.example.se" in await notice.inner_text()
    assert await page.locator("a[href*='/manage/']").count() == 0
    await page.get_by_role("link", name=WORKSHOP_TITLE).wait_for()

    # The mailed link opens the booking.
    token = await mailed_manage_token(demo, workshop, "ada@kommun.example.se")
    await page.goto(f"{live_server}/manage/{token}")
    assert await page.get_by_role("heading", level=1).inner_text() == "Din bokning"
    assert await status_text(page) == "Plats bekräftad"
    assert "Ada Lindqvist" in await page.locator(".facts").inner_text()
    await page.get_by_role("link", name="Avboka min plats").wait_for()

    # The event page counts the seat.
    await page.get_by_role("link", name=WORKSHOP_TITLE).click()
    await page.wait_for_url(re.compile(r"/events/\d+$"))
    assert "24 platser kvar" in await page.locator(".facts").inner_text()


async def test_a_cancelled_seat_goes_to_the_first_in_line(
    services: Services, live_server: str, visitor: Visitor
) -> None:
    event = await make_event(services, title="Lunchkafé med en plats", capacity=1)
    first = await visitor.page()
    second = await visitor.page()

    await book_in_browser(
        first, live_server, services, event.id, "Första Person", "forsta@kommun.example.se"
    )
    assert await status_text(first) == "Plats bekräftad"

    await second.goto(f"{live_server}/events/{event.id}")
    assert "Fullbokat – du kan ställa dig i kö" in await second.locator(".facts").inner_text()
    await second.get_by_role("heading", level=2, name="Ställ dig i kö").wait_for()
    await fill_booking(second, "Andra Person", "andra@kommun.example.se")
    await second.get_by_role("button", name="Ställ mig i kö").click()
    await second.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    token = await mailed_manage_token(services, event.id, "andra@kommun.example.se")
    await second.goto(f"{live_server}/manage/{token}")
    assert await status_text(second) == "I kö, plats 1"
    assert await second.get_by_text("https://meet.example.se/secret-room").count() == 0

    await first.get_by_role("link", name="Avboka min plats").click()
    await first.get_by_role("heading", level=1, name="Vill du avboka din plats?").wait_for()
    await first.get_by_role("button", name="Ja, avboka min plats").click()
    await first.wait_for_url(re.compile(r"\?done=cancelled$"))
    assert "Din bokning är avbokad." in await first.get_by_role("status").inner_text()
    assert await status_text(first) == "Avbokad"
    # Booking again starts from the person's own details.
    await first.get_by_role("heading", level=2, name="Boka igen").wait_for()
    assert await first.get_by_label("Namn", exact=True).input_value() == "Första Person"

    await second.reload()
    assert await status_text(second) == "Plats bekräftad"
    # Now that the seat is theirs, so is the link to the meeting.
    await second.get_by_role("link", name="https://meet.example.se/secret-room").wait_for()
    await second.get_by_role("link", name="Avboka min plats").wait_for()


async def test_keyboard_alone_reaches_the_skip_link_and_books(
    demo: Services, live_server: str, page: Page
) -> None:
    workshop = await event_id(demo, WORKSHOP_TITLE)
    await page.goto(f"{live_server}/events/{workshop}")

    await page.keyboard.press("Tab")
    skip = await focused(page)
    assert skip["text"] == "Hoppa till innehållet"
    box = await page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["x"] >= 0, "the skip link stays off screen when focused"
    await page.keyboard.press("Enter")
    assert (await focused(page))["id"] == "main"

    for _ in range(40):
        await page.keyboard.press("Tab")
        if (await focused(page))["id"] == "field-name":
            break
    else:
        pytest.fail("Tab never reached the name field")
    assert (await focused(page))["outline"] != "none", "no visible focus on the name field"
    await page.keyboard.type("Kim Tangent")
    order = []
    for _ in range(6):
        await page.keyboard.press("Tab")
        order.append(await focused(page))
    # The privacy notice's link sits in the consent text, read before the box is ticked.
    assert [f["id"] or f["text"] for f in order] == [
        "field-email",
        "field-organisation",
        "field-municipality",
        "Så hanterar vi dina personuppgifter",
        "field-consent",
        "Boka plats",
    ]
    await page.keyboard.press("Shift+Tab")  # back to the consent box
    await page.keyboard.press("Space")
    assert await page.locator("#field-consent").is_checked()
    for _ in range(4):
        await page.keyboard.press("Shift+Tab")
    assert (await focused(page))["id"] == "field-email"
    await page.keyboard.type("kim@kommun.example.se")
    for _ in range(5):
        await page.keyboard.press("Tab")
    assert (await focused(page))["text"] == "Boka plats"
    assert (await focused(page))["outline"] != "none", "no visible focus on the button"
    await page.keyboard.press("Enter")

    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    assert "kim@kommun.example.se" in await page.locator(".notice").inner_text()


async def test_booking_and_cancelling_work_without_javascript(
    demo: Services, live_server: str, visitor: Visitor
) -> None:
    page = await visitor.page(java_script_enabled=False)
    workshop = await event_id(demo, WORKSHOP_TITLE)

    await page.goto(f"{live_server}/events/{workshop}")
    await page.get_by_role("button", name="Boka plats").click()
    await page.get_by_role("heading", name=ERROR_SUMMARY_TITLE).wait_for()

    await fill_booking(page, "Utan Skript", "utan.skript@kommun.example.se")
    await page.get_by_role("button", name="Boka plats").click()
    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    token = await mailed_manage_token(demo, workshop, "utan.skript@kommun.example.se")
    await page.goto(f"{live_server}/manage/{token}")
    assert await status_text(page) == "Plats bekräftad"

    await page.get_by_role("link", name="Avboka min plats").click()
    await page.get_by_role("button", name="Ja, avboka min plats").click()
    await page.wait_for_url(re.compile(r"\?done=cancelled$"))
    assert await status_text(page) == "Avbokad"


async def test_booking_a_whole_series_lists_its_sessions(
    services: Services, live_server: str, page: Page
) -> None:
    await make_series(services, slug="cafeer", events=3)
    await page.goto(f"{live_server}/series/cafeer")
    await fill_booking(page, "Serie Person", "serie@kommun.example.se")
    await page.get_by_role("button", name="Boka alla tillfällen").click()

    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    assert "serie@kommun.example.se" in await page.locator(".notice").inner_text()
    cards = page.locator(".event-card")
    assert [await c.get_by_role("link").inner_text() for c in await cards.all()] == [
        "Kafé 0",
        "Kafé 1",
        "Kafé 2",
    ]
    await cards.first.get_by_role("link", name="Kafé 0").click()
    await page.wait_for_url(re.compile(r"/events/\d+$"))
    assert "Kafé 0" in await page.get_by_role("heading", level=1).inner_text()


# --- axe-core on every page ---------------------------------------------------------------

PageSetup = Callable[["Page", str, Services], Awaitable[None]]


async def _home(page: Page, base: str, services: Services) -> None:
    await page.goto(base)


async def _home_english(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/?lang=en")
    assert await page.get_attribute("html", "lang") == "en"


async def _home_later_page(page: Page, base: str, services: Services) -> None:
    # Enough events for a page with a link both ways: the next and the first.
    for n in range(2 * CALENDAR_PAGE):
        starts = SOON + timedelta(days=60, hours=n)
        await make_event(
            services, title=f"Kafé {n}", starts_at=starts, ends_at=starts + timedelta(hours=1)
        )
    await page.goto(base)
    await page.get_by_role("link", name="Senare tillfällen").click()
    await page.wait_for_url(re.compile(r"efter="))
    assert await page.title() == (
        "Senare tillfällen – Kommande lunchkaféer och workshoppar – Lunchkafé"
    )
    pages = page.get_by_role("navigation", name="Kalenderns sidor")
    await pages.get_by_role("link", name="Till de närmaste tillfällena").wait_for()
    await pages.get_by_role("link", name="Senare tillfällen").wait_for()


async def _event(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/events/{await event_id(services, WORKSHOP_TITLE)}")


async def _event_with_errors(page: Page, base: str, services: Services) -> None:
    await _event(page, base, services)
    await page.get_by_label("E-postadress", exact=True).fill("inte en adress")
    await page.get_by_role("button", name="Boka plats").click()
    await page.get_by_role("heading", name=ERROR_SUMMARY_TITLE).wait_for()


async def _event_full(page: Page, base: str, services: Services) -> None:
    event = await make_event(services, title="Fullt kafé", capacity=1)
    await book_directly(services, event.id, 1)
    await page.goto(f"{base}/events/{event.id}")
    await page.get_by_role("button", name="Ställ mig i kö").wait_for()


async def _event_cancelled(page: Page, base: str, services: Services) -> None:
    event = await make_event(services, title="Inställt kafé")
    async with services.transaction() as session:
        await cancel_event(session, event.id)
    await page.goto(f"{base}/events/{event.id}")
    await page.get_by_text("Evenemanget är inställt.").wait_for()


async def _series(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/series/levande-landsbygder")


async def _series_with_errors(page: Page, base: str, services: Services) -> None:
    await _series(page, base, services)
    await page.get_by_role("button", name="Boka alla tillfällen").click()
    await page.get_by_role("heading", name=ERROR_SUMMARY_TITLE).wait_for()


async def _series_booked(page: Page, base: str, services: Services) -> None:
    # One café is full, so the result lists a seat in line as well as confirmed seats.
    full = await event_id(services, "Levande landsbygder: planering som håller ihop")
    for n in range(8):
        await book_directly(services, full, 100 + n)
    await _series(page, base, services)
    await fill_booking(page, "Serie Person", "serie@kommun.example.se")
    await page.get_by_role("button", name="Boka alla tillfällen").click()
    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    assert await page.locator("a[href*='/manage/']").count() == 0


async def _booking_received(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/events/{await event_id(services, WORKSHOP_TITLE)}")
    await fill_booking(page, "Ada", "ada@kommun.example.se")
    await page.get_by_role("button", name="Boka plats").click()
    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()


async def _manage_confirmed(page: Page, base: str, services: Services) -> None:
    await book_in_browser(
        page,
        base,
        services,
        await event_id(services, WORKSHOP_TITLE),
        "Ada",
        "ada@kommun.example.se",
    )
    await page.get_by_text("Plats bekräftad").wait_for()


async def _manage_waitlisted(page: Page, base: str, services: Services) -> None:
    event = await make_event(services, title="Fullt kafé", capacity=1)
    await book_directly(services, event.id, 1)
    await book_in_browser(page, base, services, event.id, "Bo", "bo@kommun.example.se")
    await page.get_by_text("I kö, plats 1").wait_for()


async def _manage_cancelled(page: Page, base: str, services: Services) -> None:
    await _manage_confirmed(page, base, services)
    await page.get_by_role("link", name="Avboka min plats").click()
    await page.get_by_role("button", name="Ja, avboka min plats").click()
    await page.get_by_text("Din bokning är avbokad.").wait_for()


async def _manage_event_cancelled(page: Page, base: str, services: Services) -> None:
    event = await make_event(services, title="Inställt kafé")
    token = await book_directly(services, event.id, 1)
    async with services.transaction() as session:
        await cancel_event(session, event.id)
    await page.goto(f"{base}/manage/{token}")
    await page.get_by_text("Evenemanget är inställt.").wait_for()


async def _feed_page(page: Page, base: str, services: Services) -> None:
    """The personal calendar's page, as the link mailed to the address opens it."""
    await book_directly(services, await event_id(services, WORKSHOP_TITLE), 1)
    async with services.transaction() as session:
        feed = await feed_for(session, person(1).email.lower(), services.settings.secret_key)
        token = feed_token(feed, services.settings.secret_key)
    await page.goto(f"{base}/feeds/{token}")
    await page.get_by_role("heading", level=1, name="Din personliga kalender").wait_for()


async def _feed_replaced(page: Page, base: str, services: Services) -> None:
    await _feed_page(page, base, services)
    await page.get_by_role("button", name="Byt adress till min personliga kalender").click()
    await page.get_by_text("Vi har mejlat den nya adressen till dig.").wait_for()


async def _guide(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/guide")


async def _guide_filtered(page: Page, base: str, services: Services) -> None:
    await _guide(page, base, services)
    await page.locator("#challenge").select_option(label="Lokal utveckling")
    await page.get_by_role("button", name="Visa").click()
    await page.wait_for_url(re.compile(r"challenge=lokal-utveckling"))
    await page.get_by_text("3 exempel", exact=True).wait_for()


async def _guide_example(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/guide/vgr-lokala-processledare")
    await page.get_by_role("heading", name="Kommande lunchkaféer och workshoppar").wait_for()


async def _not_found(page: Page, base: str, services: Services) -> None:
    response = await page.goto(f"{base}/events/999999")
    assert response is not None
    assert response.status == 404
    await page.get_by_role("heading", level=1, name="Sidan finns inte").wait_for()


async def _manage_unknown_link(page: Page, base: str, services: Services) -> None:
    response = await page.goto(f"{base}/manage/not-a-real-token")
    assert response is not None
    assert response.status == 404
    await page.get_by_text("Anmälan finns inte, eller så har länken slutat gälla.").wait_for()


async def _api_docs(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/api/v1/docs")
    await page.get_by_role("heading", level=1, name="API-dokumentation").wait_for()


async def _api_docs_english(page: Page, base: str, services: Services) -> None:
    await page.goto(f"{base}/api/v1/docs?lang=en")
    await page.get_by_role("heading", level=1, name="API documentation").wait_for()


PAGES: dict[str, PageSetup] = {
    "home": _home,
    "home-english": _home_english,
    "home-later-page": _home_later_page,
    "event": _event,
    "event-with-errors": _event_with_errors,
    "event-full": _event_full,
    "event-cancelled": _event_cancelled,
    "series": _series,
    "series-with-errors": _series_with_errors,
    "series-booked": _series_booked,
    "booking-received": _booking_received,
    "manage-confirmed": _manage_confirmed,
    "manage-waitlisted": _manage_waitlisted,
    "manage-cancelled": _manage_cancelled,
    "manage-event-cancelled": _manage_event_cancelled,
    "feed-page": _feed_page,
    "feed-replaced": _feed_replaced,
    "guide": _guide,
    "guide-filtered": _guide_filtered,
    "guide-example": _guide_example,
    "not-found": _not_found,
    "manage-unknown-link": _manage_unknown_link,
    "api-docs": _api_docs,
    "api-docs-english": _api_docs_english,
}


async def test_axe_check_reports_what_it_finds(
    demo: Services, live_server: str, page: Page
) -> None:
    """The check below can fail: a field without a label and grey-on-white text are caught."""
    await page.goto(live_server)
    await page.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.append(document.createElement("input"));
            const faint = main.appendChild(document.createElement("p"));
            faint.textContent = "Svag text";
            faint.style.color = "#bbb";  // CSSOM: the CSP blocks style attributes
        }"""
    )
    found = {v["id"] for v in await axe_violations(page, live_server)}
    assert {"label", "color-contrast"} <= found


@pytest.mark.parametrize("name", list(PAGES))
async def test_page_has_no_wcag_21_aa_violations(
    name: str, demo: Services, live_server: str, page: Page
) -> None:
    await PAGES[name](page, live_server, demo)
    violations = await axe_violations(page, live_server)
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(
            f"{target}: {summary}"
            for target, summary in zip(v["targets"], v["summary"], strict=True)
        )
        for v in violations
    )
    assert violations == [], f"axe-core found on {name} ({page.url}):\n{report}"
