"""'Ge plats' on someone in line: a seat beyond the capacity for this person (capacity + 1,
nobody else moves), after a confirmation page that says exactly that; they get the usual
promotion mail and invite, the audit log says so, and a confirmation made after the seats
changed is refused rather than adding a seat nobody was told about. A capacity raise's
preview names who moves up. Through the app's client and the recording SMTP server."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html import unescape

from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from organisers.models import AuditEntry
from tests.conftest import Mail
from tests.factories import address, book, csrf_of, make_event, registration_of
from tests.signing_in import signed_in_client, text_of

INPUT = re.compile(r'<input[^>]*\bname="(\w+)"[^>]*\bvalue="([^"]*)"')


def fields_of(page: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in INPUT.findall(page)}


def calendar_method(message: EmailMessage) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return str(part.get_param("method"))


async def capacity_of(services: Services, event_id: int) -> int:
    async with services.transaction() as session:
        found = await session.get(Event, event_id)
        assert found is not None
        return found.capacity


async def test_a_full_event_gives_someone_in_line_a_seat_of_their_own(mail: Mail) -> None:
    services = mail.services
    event = await make_event(services, capacity=1)
    for n in (1, 2, 3):  # 2 and 3 wait
        await book(services, event.id, n)
    await mail.deliver()
    mail.clear()
    third = await registration_of(services, event.id, address(3))
    list_path = f"/organiser/events/{event.id}/attendees"
    promote = f"{list_path}/{third.id}/promote"
    async with signed_in_client(services) as client:
        listed = await client.get(list_path)
        assert promote in listed.text  # offered although every seat is taken
        assert "Ge plats" in text_of(listed)

        asked = await client.post(promote, data={"csrf_token": await csrf_of(client, list_path)})
        assert asked.status_code == 200  # the confirmation step, nothing done yet
        said = text_of(asked)
        assert "Ge Person 3 en extra plats?" in said
        assert "Antalet platser höjs från 1 till 2" in said
        assert "Person 3 får platsen och ett mejl med kalenderinbjudan" in said
        assert "Ingen annan i kön flyttas" in said
        assert (await registration_of(services, event.id, address(3))).status == "waitlisted"
        assert await capacity_of(services, event.id) == 1

        done = await client.post(promote, data={**fields_of(asked.text), "confirmed": "yes"})
        assert done.status_code == 303
        text = text_of(await client.get(done.headers["location"]))
        assert "Personen har fått en extra plats" in text
        assert "antalet platser är nu 2" in text
    assert await capacity_of(services, event.id) == 2
    assert (await registration_of(services, event.id, address(3))).status == "confirmed"
    assert (await registration_of(services, event.id, address(2))).status == "waitlisted"

    await mail.deliver()
    promoted = mail.only(address(3))
    assert str(promoted["Subject"]).startswith("Du har fått en plats:")
    assert calendar_method(promoted) == "REQUEST"
    assert mail.to(address(2)) == []
    async with services.transaction() as session:
        (entry,) = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "registration.promoted")
            )
        ).all()
    assert entry.detail["registration"] == third.id
    assert entry.detail["fields"] == "capacity"
    assert entry.detail["capacity"] == 2


async def test_a_confirmation_after_the_seats_changed_is_refused(services: Services) -> None:
    event = await make_event(services, capacity=1)
    for n in (1, 2, 3):
        await book(services, event.id, n)
    second = await registration_of(services, event.id, address(2))
    third = await registration_of(services, event.id, address(3))
    list_path = f"/organiser/events/{event.id}/attendees"
    async with signed_in_client(services) as client:
        token = await csrf_of(client, list_path)
        asked = await client.post(f"{list_path}/{second.id}/promote", data={"csrf_token": token})
        shown = fields_of(asked.text)
        # Meanwhile another organiser gives person 3 a seat: the capacity is now 2.
        other = await client.post(f"{list_path}/{third.id}/promote", data={"csrf_token": token})
        assert (
            await client.post(
                f"{list_path}/{third.id}/promote",
                data={**fields_of(other.text), "confirmed": "yes"},
            )
        ).status_code == 303
        late = await client.post(
            f"{list_path}/{second.id}/promote", data={**shown, "confirmed": "yes"}
        )
        assert late.status_code == 303
        text = text_of(await client.get(late.headers["location"]))
        assert "Antalet platser har ändrats sedan du tittade" in text
    assert await capacity_of(services, event.id) == 2
    assert (await registration_of(services, event.id, address(2))).status == "waitlisted"


async def test_a_capacity_raise_names_who_moves_up(services: Services) -> None:
    event = await make_event(services, capacity=1)
    for n in (1, 2, 3, 4):
        await book(services, event.id, n)
    path = f"/organiser/events/{event.id}/change"
    async with signed_in_client(services) as client:
        page = await client.get(path)
        preview = await client.post(path, data={**fields_of(page.text), "capacity": "3"})
    said = text_of(preview)
    assert "2 flyttas upp från kön och får en kalenderinbjudan: Person 2 och Person 3." in said
    assert "Person 4" not in said
