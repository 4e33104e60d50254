"""An organiser's cancellation of someone's seat says who cancelled, with the reason typed on
the confirmation page, in the person's own language; cancelling oneself reads as before.
Through the app's client and the recording SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest

from foundation.services import Services
from lunchkafe.app import create_app
from registrations import booking
from tests.conftest import SECRET, Mail
from tests.factories import address, book, cancel, csrf_of, make_event, person, registration_of
from tests.signing_in import add, sign_in, text_of

TITLE = "Lunchkafé om förenkling"
REASON = "Vi behöver platsen till en föreläsare.\n\nHör av dig om du har frågor."


@pytest.fixture
async def organiser(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    await add(mail.services, "anna@myndigheten.example.se")
    transport = httpx.ASGITransport(app=create_app(mail.services.settings, mail.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303
        yield client


def both_parts(message: EmailMessage) -> str:
    found = []
    for subtype in ("plain", "html"):
        part = message.get_body((subtype,))
        assert isinstance(part, EmailMessage)
        found.append(str(part.get_content()))
    return "\n".join(found)


async def cancel_as_organiser(
    services: Services, client: httpx.AsyncClient, event_id: int, n: int, reason: str = ""
) -> httpx.Response:
    registration = await registration_of(services, event_id, address(n))
    path = f"/organiser/events/{event_id}/attendees/{registration.id}/cancel"
    token = await csrf_of(client, f"/organiser/events/{event_id}/attendees")
    asked = await client.post(path, data={"csrf_token": token})
    assert asked.status_code == 200
    # The confirmation page asks for an optional reason, said to go to the person.
    assert "Anledning (frivilligt)" in text_of(asked)
    assert 'name="reason"' in asked.text
    return await client.post(path, data={"csrf_token": token, "confirmed": "yes", "reason": reason})


async def test_an_organisers_cancellation_says_so_with_the_reason(
    mail: Mail, organiser: httpx.AsyncClient
) -> None:
    services = mail.services
    event = await make_event(services, title=TITLE, capacity=1)
    for n in (1, 2, 3):  # 2 and 3 in line; 2 moves up when 1 is cancelled
        await book(services, event.id, n)
    await mail.deliver()
    mail.clear()

    done = await cancel_as_organiser(services, organiser, event.id, 1, REASON)
    assert done.status_code == 303
    done = await cancel_as_organiser(services, organiser, event.id, 3)  # no reason given
    assert done.status_code == 303
    await mail.deliver()

    seat = both_parts(mail.only(address(1)))
    assert f"Arrangören har avbokat din plats på {TITLE}" in seat
    assert "Tack för att du gav platsen vidare" not in seat
    assert "Vi behöver platsen till en föreläsare." in seat
    assert "Hör av dig om du har frågor." in seat

    line = both_parts(mail.only(address(3)))
    assert f"Arrangören har tagit bort dig från kön till {TITLE}" in line
    assert "Du har lämnat kön." not in line
    assert "Meddelande från arrangören" not in line  # no reason, no empty heading


async def test_the_wording_comes_in_the_persons_language(
    mail: Mail, organiser: httpx.AsyncClient
) -> None:
    services = mail.services
    event = await make_event(services, title=TITLE)
    async with services.transaction() as session:
        await booking.book(
            session, event_id=event.id, attendee=person(1, language="en"), secret_key=SECRET
        )
    await mail.deliver()
    mail.clear()
    assert (
        await cancel_as_organiser(services, organiser, event.id, 1, "Room lost.")
    ).status_code == 303
    await mail.deliver()
    text = both_parts(mail.only(address(1)))
    assert f"The organiser has cancelled your seat at {TITLE}" in text
    assert "Room lost." in text
    assert "Arrangören" not in text


async def test_cancelling_oneself_reads_as_before(mail: Mail) -> None:
    services = mail.services
    event = await make_event(services, title=TITLE)
    made = await book(services, event.id, 1)
    await mail.deliver()
    mail.clear()
    await cancel(services, made.manage_token)
    await mail.deliver()
    text = both_parts(mail.only(address(1)))
    assert "Din plats är avbokad och posten tas bort ur din kalender." in text
    assert "Tack för att du gav platsen vidare!" in text
    assert "Arrangören" not in text
