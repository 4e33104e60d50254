"""Organisers' reminders and messages: the preview is the mail, progress moves as mail goes
out, failed mail is retried from the outbox; through the real SMTP server and, for the
progress page, a real Chromium."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.message import EmailMessage
from html import unescape

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage, OutboxStatus
from notices.delivery import DeliveryReport
from organisers.models import AuditEntry
from tests.browser import Visitor, axe_violations
from tests.conftest import Mail
from tests.factories import JOIN_URL, add_confirmed, address, book, csrf_in, make_event, outbox
from tests.signing_in import PASSWORD, add, sign_in, text_of

MASK = "(personlig länk)"
SUBJECT = "Ny lokal & fika"
BODY = "Hej allihop!\n\nVi ses i <stora> salen.\nTa med frågor."


def between(page: str, element_id: str) -> str:
    """The text of the element with `element_id` (a <pre> or <dd>), unescaped."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert found, element_id
    return unescape(found.group(1))


def send_key_in(page: str) -> str:
    """The one-time key of a preview's send form (organisers.send_keys)."""
    found = re.search(r'name="send_key" value="([^"]+)"', page)
    assert found, "the send form carries its key"
    return found.group(1)


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content


def masked(text: str, services: Services) -> str:
    """A delivered mail's text with its recipient's own links as the preview shows them (and
    the line ends as before SMTP's CRLF)."""
    text = text.replace("\r\n", "\n")
    base = re.escape(services.settings.base_url.rstrip("/"))
    return re.sub(rf"{base}/(manage|feeds)/\S+", MASK, text)


async def signed_in_admin(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "anna@myndigheten.example.se", role="admin")
    assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303


async def progress(client: httpx.AsyncClient, send_path: str) -> dict[str, int]:
    answer = await client.get(f"{send_path}.json")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, no-store"
    found: dict[str, int] = answer.json()
    return found


async def test_the_preview_is_exactly_the_mail_the_first_recipient_gets(
    services: Services, client: httpx.AsyncClient, mail: Mail
) -> None:
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 4))
    await book(services, event.id, 9)  # mailed before: cleared below
    await mail.deliver()
    mail.clear()
    await signed_in_admin(services, client)

    form = await client.get(f"/organiser/events/{event.id}/messages")
    assert form.status_code == 200
    assert form.headers["cache-control"] == "private, no-store"
    assert "4 bekräftade, 0 i kön" in text_of(form)
    preview = await client.post(
        f"/organiser/events/{event.id}/messages/preview",
        data={
            "csrf_token": csrf_in(form.text),
            "audience": "confirmed",
            "subject": SUBJECT,
            "body": BODY,
        },
    )
    assert preview.status_code == 200
    assert preview.headers["cache-control"] == "private, no-store"
    assert "Går till 4 personer." in text_of(preview)
    assert "Skicka till 4 personer" in text_of(preview)
    # Nobody's own link is on the organiser's screen, and nothing was queued or stored.
    assert "/manage/" not in preview.text
    assert "/feeds/" not in preview.text
    assert JOIN_URL in preview.text  # the event's link, the same for everyone
    assert MASK in preview.text
    before_send = await outbox(services)
    assert [m.status for m in before_send] == [OutboxStatus.SENT]  # the booking's, only
    shown_subject = between(preview.text, "preview-subject")
    shown_text = between(preview.text, "preview-text")
    assert shown_subject == SUBJECT
    # Greeted once, by first name: the body's own "Hej allihop!" gives way (notices.greeting).
    assert "Hej Person!" in shown_text
    assert "Hej allihop!" not in shown_text
    assert "Vi ses i <stora> salen." in shown_text

    sent = await client.post(
        f"/organiser/events/{event.id}/messages",
        data={
            "csrf_token": csrf_in(preview.text),
            "audience": "confirmed",
            "subject": SUBJECT,
            "body": BODY,
            "send_key": send_key_in(preview.text),
        },
    )
    assert sent.status_code == 303
    send_path = sent.headers["location"]
    assert re.fullmatch(r"/organiser/sends/\d+", send_path)
    before = await progress(client, send_path)
    assert (before["queued"], before["sent"], before["done"]) == (4, 0, False)
    page = await client.get(send_path)
    assert 'aria-live="polite"' in page.text
    assert "Uppdatera" in text_of(page)
    assert "<noscript>" in page.text

    assert await mail.deliver() == DeliveryReport(sent=4)
    after = await progress(client, send_path)
    assert (after["queued"], after["sent"], after["failed"], after["done"]) == (0, 4, 0, True)
    received = mail.only(address(1))
    assert str(received["Subject"]) == shown_subject
    delivered = text_part(received)
    assert JOIN_URL in delivered
    assert masked(delivered, services) == shown_text
    assert len(mail.messages) == 4

    async with services.transaction() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "message.sent"))
    assert entry is not None
    assert entry.subject == f"event:{event.id}"
    assert entry.detail["recipients"] == 4
    assert "Person" not in json.dumps(entry.detail)


async def test_a_message_without_a_subject_is_refused_with_the_text_kept(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 2))
    await signed_in_admin(services, client)
    form = await client.get(f"/organiser/events/{event.id}/messages")
    refused = await client.post(
        f"/organiser/events/{event.id}/messages/preview",
        data={"csrf_token": csrf_in(form.text), "audience": "all", "subject": " ", "body": BODY},
    )
    assert refused.status_code == 422
    assert "Skriv en ämnesrad" in text_of(refused)
    assert "Vi ses i &lt;stora&gt; salen." in refused.text


async def test_a_reminder_now_after_a_confirmation_reaches_every_confirmed(
    services: Services, client: httpx.AsyncClient, mail: Mail
) -> None:
    event = await make_event(services, capacity=2)
    for n in (1, 2, 3):  # the third waits in line
        await book(services, event.id, n)
    await mail.deliver()
    mail.clear()
    await signed_in_admin(services, client)

    confirm = await client.get(f"/organiser/events/{event.id}/reminder")
    assert confirm.status_code == 200
    assert "Skicka påminnelsen till 2 personer" in text_of(confirm)
    shown_subject = between(confirm.text, "preview-subject")
    shown_text = between(confirm.text, "preview-text")
    assert len(await outbox(services)) == 3  # the confirmation page queued nothing

    sent = await client.post(
        f"/organiser/events/{event.id}/reminder",
        data={"csrf_token": csrf_in(confirm.text), "send_key": send_key_in(confirm.text)},
    )
    assert sent.status_code == 303
    assert (await progress(client, sent.headers["location"]))["queued"] == 2
    assert await mail.deliver() == DeliveryReport(sent=2)
    reminded = mail.only(address(1))
    assert str(reminded["Subject"]) == shown_subject
    assert shown_subject.startswith("Påminnelse:")
    assert masked(text_part(reminded), services) == shown_text
    assert mail.to(address(3)) == []
    assert (await progress(client, sent.headers["location"]))["sent"] == 2


async def test_a_failed_message_is_retried_from_the_outbox_and_arrives(
    services: Services, client: httpx.AsyncClient, mail: Mail
) -> None:
    event = await make_event(services)
    mail.server.recorder.rcpt_replies.append("550 5.1.1 <person1@kommun.example.se>: no such user")
    await book(services, event.id, 1)
    assert await mail.deliver() == DeliveryReport(failed=1)
    (row,) = await outbox(services)
    await signed_in_admin(services, client)

    box = await client.get(f"/organiser/events/{event.id}/outbox")
    assert box.status_code == 200
    assert box.headers["cache-control"] == "private, no-store"
    seen = text_of(box)
    assert "Misslyckades" in seen
    assert "550 5.1.1 <person1@kommun.example.se>: no such user" in seen
    everywhere = await client.get("/organiser/outbox")
    assert "no such user" in text_of(everywhere)

    confirm = await client.get(f"/organiser/outbox/{row.id}/retry")
    assert confirm.status_code == 200
    assert "Skicka meddelandet igen?" in text_of(confirm)
    retried = await client.post(
        f"/organiser/outbox/{row.id}/retry", data={"csrf_token": csrf_in(confirm.text)}
    )
    assert retried.status_code == 303
    assert retried.headers["location"] == f"/organiser/events/{event.id}/outbox"
    assert await mail.deliver() == DeliveryReport(sent=1)
    assert str(mail.only(address(1))["Subject"]).startswith("Bekräftad plats:")
    (row,) = await outbox(services)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)

    # Only a failed message can be retried; the entry names ids and counts, not the person.
    again = await client.post(
        f"/organiser/outbox/{row.id}/retry", data={"csrf_token": csrf_in(confirm.text)}
    )
    assert again.status_code == 409
    async with services.transaction() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.retried"))
        )
    assert [(e.subject, e.detail["event"]) for e in entries] == [(f"outbox:{row.id}", event.id)]
    assert "person1" not in json.dumps(entries[0].detail)


async def test_stuck_mail_is_listed_with_failed_mail_across_events(
    services: Services, client: httpx.AsyncClient
) -> None:
    first = await make_event(services, title="Första")
    second = await make_event(services, title="Andra")
    await book(services, first.id, 1)
    await book(services, second.id, 2)
    await book(services, second.id, 3)
    async with services.transaction() as session:
        ids = list(await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[0])
            .values(status=OutboxStatus.FAILED, last_error="554 5.7.1 rejected")
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[1])
            .values(next_attempt_at=utcnow() - timedelta(hours=1))
        )
    await signed_in_admin(services, client)
    listed = text_of(await client.get("/organiser/outbox"))
    assert "554 5.7.1 rejected" in listed
    assert address(1) in listed
    assert address(3) not in listed  # just queued: not late
    home = await client.get("/organiser/")
    assert 'href="/organiser/outbox"' in home.text


@pytest.mark.parametrize(
    "path",
    [
        "/organiser/events/1/messages",
        "/organiser/events/1/reminder",
        "/organiser/events/1/outbox",
        "/organiser/sends/1",
        "/organiser/sends/1.json",
        "/organiser/outbox",
        "/organiser/outbox/1/retry",
    ],
)
async def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/organiser/login?next=")


async def test_anonymous_posts_send_nothing(services: Services, client: httpx.AsyncClient) -> None:
    event = await make_event(services)
    await book(services, event.id, 1)
    page = await client.get(f"/events/{event.id}")
    token = csrf_in(page.text)
    for path, data in [
        (f"/organiser/events/{event.id}/reminder", {}),
        (f"/organiser/events/{event.id}/messages", {"subject": "x", "body": "y"}),
    ]:
        answer = await client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/organiser/login")
    assert len(await outbox(services)) == 1


# --- in the browser ------------------------------------------------------------------------------


async def browser_sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/organiser/login")
    await page.fill("input[name=email]", "anna@myndigheten.example.se")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/organiser/")


async def test_the_progress_page_counts_mail_as_it_goes_without_a_reload(
    services: Services, mail: Mail, visitor: Visitor, live_server: str
) -> None:
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 4))
    await add(services, "anna@myndigheten.example.se", role="admin")
    page = await visitor.page()
    await browser_sign_in(page, live_server)

    await page.goto(f"{live_server}/organiser/events/{event.id}/messages")
    assert await axe_violations(page, live_server) == []
    await page.fill("#field-subject", SUBJECT)
    await page.fill("#field-body", BODY)
    await page.click("button:has-text('Förhandsgranska')")
    await page.wait_for_url(re.compile(r".*/messages/preview$"))
    assert await axe_violations(page, live_server) == []
    await page.click("button:has-text('Skicka till 3 personer')")
    await page.wait_for_url(re.compile(r".*/organiser/sends/\d+$"))
    assert await page.text_content("[data-field=queued]") == "3"
    assert await axe_violations(page, live_server) == []
    reloads: list[str] = []
    page.on("framenavigated", lambda frame: reloads.append(frame.url))

    # The served app runs no delivery of its own (no lifespan): this is the one the page sees.
    assert await mail.deliver() == DeliveryReport(sent=3)
    await expect(page.locator("[data-field=sent]")).to_have_text("3", timeout=8000)
    assert await page.text_content("[data-field=queued]") == "0"
    assert "Klart" in (await page.text_content("#send-progress") or "")
    assert reloads == []
    assert await page.get_attribute("#send-progress", "aria-live") == "polite"
    assert await axe_violations(page, live_server) == []

    await page.goto(f"{live_server}/organiser/events/{event.id}/outbox")
    assert await axe_violations(page, live_server) == []
    await page.goto(f"{live_server}/organiser/outbox")
    assert await axe_violations(page, live_server) == []
    await page.goto(f"{live_server}/organiser/events/{event.id}/reminder?lang=en")
    assert "Send the reminder to 3 people" in (await page.text_content("main") or "")
    assert await axe_violations(page, live_server) == []
    async with services.transaction() as session:
        await session.execute(
            update(OutboxMessage).values(status=OutboxStatus.FAILED, last_error="554 5.7.1 no")
        )
        failed = (await session.scalars(select(OutboxMessage.id))).first()
    await page.goto(f"{live_server}/organiser/outbox/{failed}/retry?lang=sv")
    assert await axe_violations(page, live_server) == []
    # On a phone the outbox's table scrolls in its own box; nothing else in the page widens.
    await page.set_viewport_size({"width": 320, "height": 640})
    await page.goto(f"{live_server}/organiser/events/{event.id}/outbox")
    wide = await page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.table-scroll') || e.matches('.table-scroll'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName)"""
    )
    assert wide == []
