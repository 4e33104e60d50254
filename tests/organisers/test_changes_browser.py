"""Changing and cancelling in Chromium: an organiser moves a café a day later by keyboard,
reads the preview, confirms, and the updated invite is in the local mailbox; every page of the
flow (forms, errors, previews, a preview that no longer holds) passes axe-core (WCAG 2.1 AA)
in Swedish and English."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar

from events.schedule import EventChanges
from foundation.services import Services
from mail.mailbox import LocalMailbox
from notices.delivery import deliver_due
from registrations.organising import update_event
from tests.browser import Visitor, assert_accessible, signed_in_page
from tests.factories import address, book, make_event


async def test_a_reschedule_by_keyboard_reaches_the_mailbox(
    services: Services, visitor: Visitor
) -> None:
    event = await make_event(services, title="Lunchkafé om förenkling", capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)  # in line
    await deliver_due(services)
    page = await signed_in_page(visitor, services)
    base = visitor.base

    await page.goto(f"{base}/organiser/events/{event.id}/change")
    day = page.get_by_label("Datum")
    moved = date.fromisoformat(await day.input_value()) + timedelta(days=1)
    await day.fill(moved.isoformat())
    await page.get_by_label("Meddelande till deltagarna").fill("Vi flyttar en dag.\n\nVälkomna!")
    await page.get_by_role("button", name="Förhandsgranska").press("Enter")
    await page.wait_for_selector("text=Så här blir ändringen")
    body = await page.inner_text("main")
    assert "1 bekräftad får en uppdaterad kalenderinbjudan." in body
    assert "1 i kön får veta om ändringen." in body
    assert "Vi flyttar en dag." in body
    await assert_accessible(page, base)

    await page.get_by_role("button", name="Bekräfta").focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "/change" not in page.url  # on to the event's page (or the overview)

    # The local mailbox (no SMTP_URL): person 1's updated invite, person 2's word in line.
    await deliver_due(services)
    mailbox = LocalMailbox(services.settings.mailbox_dir)
    changed = [e for e in mailbox.list() if e.subject.startswith("Ändrat:")]
    assert len(changed) == 2
    (invited,) = [e for e in changed if address(1) in e.to]
    ics = mailbox.invite(invited.id)
    assert ics is not None
    calendar = icalendar.Calendar.from_ical(ics)
    (vevent,) = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), int(str(vevent["SEQUENCE"]))) == ("REQUEST", 1)
    (told,) = [e for e in changed if address(2) in e.to]
    assert mailbox.invite(told.id) is None
    message = mailbox.get(invited.id)
    assert message is not None
    plain = message.get_body(("plain",))
    assert plain is not None
    assert "Vi flyttar en dag." in plain.get_content()


async def test_change_and_cancel_pages_pass_axe_in_both_languages(
    services: Services, visitor: Visitor
) -> None:
    event = await make_event(services, title="Kafé att ändra", capacity=2)
    for n in (1, 2, 3):
        await book(services, event.id, n)
    page = await signed_in_page(visitor, services)
    base = visitor.base
    for language in ("sv", "en"):
        await page.goto(f"{base}/organiser/events/{event.id}/change?lang={language}")
        await assert_accessible(page, base)
        # Below the confirmed seats: the error summary first, the field marked.
        await page.locator("#field-capacity").fill("1")
        await page.locator("form.event-form button[type=submit]").click()
        await page.wait_for_selector(".error-summary")
        await assert_accessible(page, base)
        # A preview with changes, then one that no longer holds.
        await page.locator("#field-capacity").fill("3")
        await page.locator("#field-venue").fill("Stadshuset, sal 2")
        await page.locator("form.event-form button[type=submit]").click()
        await page.wait_for_selector("dl.change-facts")
        await assert_accessible(page, base)
        async with services.transaction() as session:
            await update_event(session, event.id, EventChanges(title=f"Kafé att ändra {language}"))
        await page.locator("button[name=confirm]").click()
        await page.wait_for_selector(".notice--warning")
        await assert_accessible(page, base)

        await page.goto(f"{base}/organiser/events/{event.id}/cancel?lang={language}")
        await assert_accessible(page, base)
        await page.locator("#field-message").fill("Vi ses nästa vecka i stället.")
        await page.locator("form.event-form button[type=submit]").click()
        await page.wait_for_selector("button[name=confirm]")
        await assert_accessible(page, base)
