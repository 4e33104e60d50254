"""The local mailbox shows a mail as it was sent (issue 10, item 10): its HTML part in a
sandboxed frame with a policy of its own, so the mail's inline styles apply as in a mail
client, while every page of the site keeps the site's policy. In headless Chromium."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from foundation.response_headers import SITE_HEADERS
from foundation.services import Services
from mail.mailbox import LocalMailbox
from notices.delivery import deliver_due
from tests.browser import Visitor, axe_violations
from tests.factories import book, make_event

pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)

SITE_CSP = dict(SITE_HEADERS)[b"content-security-policy"].decode()


async def a_delivered_confirmation(services: Services) -> str:
    event = await make_event(services, title="Lunchkafé om förenkling")
    await book(services, event.id, 1)
    await deliver_due(services)
    entries = await asyncio.to_thread(LocalMailbox(services.settings.mailbox_dir).list)
    assert entries, "the confirmation is in the local mailbox"
    return entries[0].id


async def test_the_html_part_shows_with_its_own_styles_and_nothing_is_refused(
    services: Services, mailbox_server: str, mailbox_visitor: Visitor
) -> None:
    message_id = await a_delivered_confirmation(services)
    page = await mailbox_visitor.page()
    await page.goto(f"{mailbox_server}/mailbox/{message_id}")

    frame_element = page.locator("iframe.mail-html")
    sandbox = await frame_element.get_attribute("sandbox")
    assert sandbox is not None, "the mail's HTML is in a sandboxed frame"
    assert "allow-scripts" not in sandbox
    assert "allow-same-origin" not in sandbox
    assert await frame_element.get_attribute("title")  # named for screen readers
    frame = page.frame_locator("iframe.mail-html")
    heading = frame.locator("p").first
    await heading.wait_for()
    # The layout's inline styles (templates/mail/layout.html), computed as a client would.
    assert "Arial" in await frame.locator("body").evaluate("b => getComputedStyle(b).fontFamily")
    assert await heading.evaluate("p => getComputedStyle(p).borderBottomWidth") == "4px"
    assert await heading.evaluate("p => getComputedStyle(p).borderBottomColor") == (
        "rgb(11, 83, 148)"
    )
    assert await heading.evaluate("p => getComputedStyle(p).fontWeight") == "700"
    # Nothing in the frame or the page was refused by a policy.
    await page.wait_for_timeout(200)
    assert mailbox_visitor.refused == []
    assert await axe_violations(page, mailbox_server) == []


async def test_the_site_policy_is_unchanged_beside_the_mail(
    services: Services, mailbox_server: str
) -> None:
    message_id = await a_delivered_confirmation(services)
    async with httpx.AsyncClient(base_url=mailbox_server) as client:
        html = await client.get(f"/mailbox/{message_id}/html")
        policy = html.headers["content-security-policy"]
        assert policy.startswith("sandbox")
        assert "frame-ancestors 'self'" in policy
        assert "script-src" not in policy
        assert "allow-scripts" not in policy
        for path in ("/", "/mailbox", f"/mailbox/{message_id}"):
            answer = await client.get(path)
            assert answer.headers["content-security-policy"] == SITE_CSP, path
            assert answer.headers["x-frame-options"] == "DENY", path
