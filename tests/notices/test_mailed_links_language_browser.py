"""The links in a mail open pages in the language the person booked in, on any device: each
fresh Chromium context below has no language cookie, and Chromium asks for Swedish.

A mailed link carries `?lang=` (notices.compose): the page then speaks it and remembers it in
the language cookie, so the rest of the visit, "Book again" on a cancelled booking's page
included, stays in it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from playwright.async_api import Browser

from registrations import booking
from tests.browser import Visitor
from tests.conftest import SECRET, Mail, MailFactory, uvicorn_serving
from tests.factories import make_event, person, registration_of
from tests.ports import free_port

EMAIL = "eve@kommun.example.se"


@pytest.fixture
async def mail(mail_factory: MailFactory) -> Mail:
    return mail_factory(BASE_URL=f"http://127.0.0.1:{free_port()}")


@pytest.fixture
async def visitor(browser: Browser, mail: Mail) -> AsyncIterator[Visitor]:
    async with uvicorn_serving(mail.services) as base:
        made = Visitor(browser, base)
        try:
            yield made
        finally:
            await made.close()


def links_in(message: EmailMessage, base: str) -> dict[str, str]:
    """The mail's links to the site by the kind of page: manage, feeds, events."""
    part = message.get_body(("plain",))
    assert part is not None
    text = str(part.get_content())
    pattern = rf"{re.escape(base)}/(manage|feeds|events)/[^\s<>\"]+"
    return {m.group(1): m.group(0) for m in re.finditer(pattern, text)}


async def test_links_in_an_english_mail_open_english_pages_on_a_fresh_device(
    mail: Mail, visitor: Visitor
) -> None:
    services = mail.services
    event = await make_event(services)
    async with services.transaction() as session:
        await booking.book(
            session,
            event_id=event.id,
            attendee=person(1, email=EMAIL, name="Eve Ek", language="en"),
            secret_key=SECRET,
        )
    await mail.deliver()
    links = links_in(mail.only(EMAIL), visitor.base)
    assert set(links) == {"manage", "feeds", "events"}

    for kind, link in links.items():
        page = await visitor.page()  # a device of its own: no cookie, Swedish preferred
        await page.goto(link)
        assert await page.locator("html").get_attribute("lang") == "en", (kind, link)

    # Cancelled since; the mailed link opens the English page, and booking again from it
    # books in English, so the next mails are English too.
    registration = await registration_of(services, event.id, EMAIL)
    async with services.transaction() as session:
        await booking.cancel(session, token=booking.manage_token(registration, SECRET))
    page = await visitor.page()
    await page.goto(links["manage"])
    assert await page.locator("html").get_attribute("lang") == "en"
    form = page.locator("form[action$='/book']")
    await form.locator("input[name=consent]").check()
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/received$"))
    assert await page.locator("html").get_attribute("lang") == "en"
    assert (await registration_of(services, event.id, EMAIL)).language == "en"
