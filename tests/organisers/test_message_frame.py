"""What frames an organiser's message: someone in line is told they have no seat yet (and
where they stand), the preview of a message to both shows that too, and the organiser's
preview shows the event's join link (the same for everyone) while the personal links stay
masked. Through the app's client and the recording SMTP server."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html import unescape

import httpx

from foundation.services import Services
from tests.conftest import Mail
from tests.factories import JOIN_URL, address, book, csrf_of, make_event
from tests.signing_in import add, sign_in, text_of

TITLE = "Lunchkafé om förenkling"
MASK = "(personlig länk)"
MESSAGE = {"subject": "Program för kaféet", "body": "Vi börjar med en kort presentation."}


def part(message: EmailMessage, subtype: str) -> str:
    found = message.get_body((subtype,))
    assert isinstance(found, EmailMessage)
    return str(found.get_content())


def shown(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</pre>', page, re.S)
    assert found, element_id
    return unescape(found.group(1))


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "anna@myndigheten.example.se")
    assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303


async def test_someone_in_line_is_told_they_wait_and_the_preview_shows_it(
    services: Services, client: httpx.AsyncClient, mail: Mail
) -> None:
    event = await make_event(services, title=TITLE, capacity=1)
    for n in (1, 2, 3):  # 2 and 3 wait, 3 second in line
        await book(services, event.id, n)
    await mail.deliver()
    mail.clear()
    await signed_in(services, client)
    path = f"/organiser/events/{event.id}/messages"
    data = {"csrf_token": await csrf_of(client, path), "audience": "all", **MESSAGE}

    preview = await client.post(f"{path}/preview", data=data)
    assert preview.status_code == 200
    first = shown(preview.text, "preview-text")  # Person 1, who has a seat
    assert "står i kö" not in first
    waiting = shown(preview.text, "preview-waitlisted-text")
    assert f"Du står i kö för {TITLE} (plats 1 i kön)" in waiting
    assert "Vi börjar med en kort presentation." in waiting
    assert JOIN_URL not in waiting  # the link is not theirs
    assert "Så här ser det ut för den som står i kö" in text_of(preview)

    # Sent as the preview's own form sends it (its hidden fields, whatever they are).
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview.text))
    sent = await client.post(path, data={**data, **{k: unescape(v) for k, v in hidden.items()}})
    assert sent.status_code == 303
    await mail.deliver()
    third = mail.only(address(3))
    for said in (part(third, "plain"), part(third, "html")):
        assert f"Du står i kö för {TITLE} (plats 2 i kön)" in said
    seated = mail.only(address(1))
    assert "står i kö" not in part(seated, "plain")


async def test_the_preview_shows_the_join_link_and_masks_the_personal_links(
    services: Services, client: httpx.AsyncClient, mail: Mail
) -> None:
    event = await make_event(services, title=TITLE)
    await book(services, event.id, 1)
    await signed_in(services, client)
    path = f"/organiser/events/{event.id}/messages"
    token = await csrf_of(client, path)

    message = await client.post(
        f"{path}/preview", data={"csrf_token": token, "audience": "confirmed", **MESSAGE}
    )
    reminder = await client.get(f"/organiser/events/{event.id}/reminder")
    for page in (message, reminder):
        assert page.status_code == 200, page.url
        text = shown(page.text, "preview-text")
        assert f"Länk till mötet: {JOIN_URL}" in text
        assert f"Se din bokning eller avboka: {MASK}" in text
        assert "/manage/" not in page.text
        assert "/feeds/" not in page.text
