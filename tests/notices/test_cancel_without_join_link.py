"""A CANCEL goes to someone losing their seat: it carries no join link, in its calendar file
or anywhere else in the mail (events.entries.cancel_entry), whoever cancelled. It still holds
what RFC 5546 §3.2.5 and ICAL.md ask of a CANCEL."""

from __future__ import annotations

from email.message import EmailMessage

import icalendar
import pytest

from foundation.services import Services
from foundation.timestamps import utcnow
from organisers import attendees_workspace
from registrations.organising import cancel_event
from tests.conftest import Mail
from tests.factories import (
    JOIN_URL,
    address,
    book,
    cancel,
    mailed_manage_token,
    make_event,
    registration_of,
)
from tests.signing_in import add


def whole(message: EmailMessage) -> str:
    """Every part of the mail decoded: text, HTML, the calendar part and the attachment."""
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts.append(payload.decode())
    return "\n".join(parts)


def cancel_of(message: EmailMessage) -> icalendar.Event:
    (ics,) = [
        part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]
    assert isinstance(ics, bytes)
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    return event


@pytest.mark.parametrize("who", ["organiser", "themselves", "event cancelled"])
async def test_no_cancel_carries_the_join_link(services: Services, mail: Mail, who: str) -> None:
    event = await make_event(services, join_url=JOIN_URL)  # no venue: the link was LOCATION
    await book(services, event.id, 1)
    await mail.deliver()
    mail.clear()
    if who == "organiser":
        anna = await add(services, "anna@myndigheten.example.se")
        registration = await registration_of(services, event.id, address(1))
        async with services.transaction() as session:
            await attendees_workspace.cancel_attendee(
                session, await session.merge(anna), event.id, registration.id, utcnow()
            )
    elif who == "themselves":
        await cancel(services, await mailed_manage_token(services, event.id, address(1)))
    else:
        async with services.transaction() as session:
            await cancel_event(session, event.id, note="Vi ses nästa gång.")
    await mail.deliver()
    message = mail.only(address(1))
    assert JOIN_URL not in whole(message)
    assert "meet.example.se" not in whole(message)
    cancelled = cancel_of(message)
    # What a CANCEL needs (RFC 5546 §3.2.5; ICAL.md invites rule 7).
    for needed in ("UID", "SEQUENCE", "DTSTAMP", "ORGANIZER", "ATTENDEE", "DTSTART", "SUMMARY"):
        assert needed in cancelled, needed
    assert str(cancelled["UID"]) == event.uid
    assert int(str(cancelled["SEQUENCE"])) > 0
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert not list(cancelled.walk("VALARM"))
