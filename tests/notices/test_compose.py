"""Every kind of mail as an attendee receives it, through a real SMTP server on loopback.

Each step of an attendee's story is delivered from the outbox by `deliver_due` and read back
from what aiosmtpd received: one mail per step, the MIME structure mail clients need, the
join link only for confirmed attendees, and calendar parts that four independent iCalendar
parsers (icalendar, ical, ical.js, libical; see tests/calendars.py) read as the
same UID, SEQUENCE and instants as the event in the database.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage, Message
from typing import Any

import icalendar
import pytest

from events.models import Event
from events.schedule import EventChanges
from foundation.settings import DEMO_AGENCY_EMAIL
from foundation.timestamps import utcnow
from guide.catalogue import add_example, link_example
from mail.models import MessageKind, OutboxStatus
from notices.delivery import DeliveryReport
from registrations import booking
from registrations.organising import cancel_event, update_event
from registrations.reminders import create_due_follow_ups, create_due_reminders
from tests.calendars import LibIcal, Parsed, Reader, read_ical, read_icalendar
from tests.conftest import SECRET, Mail
from tests.factories import JOIN_URL, address, book, cancel, make_event, outbox, person

INVITE_SHAPE = (
    "multipart/mixed",
    [("multipart/alternative", ["text/plain", "text/html", "text/calendar"]), "application/ics"],
)
PLAIN_SHAPE = ("multipart/alternative", ["text/plain", "text/html"])


@pytest.fixture
def readers(read_icaljs: Reader, libical: LibIcal) -> list[Reader]:
    return [read_icalendar, read_ical, read_icaljs, libical.read]


def shape(part: Message) -> Any:
    if part.is_multipart():
        payload = part.get_payload()
        assert isinstance(payload, list)
        return (part.get_content_type(), [shape(p) for p in payload if isinstance(p, Message)])
    return part.get_content_type()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    content: str = body.get_content()
    return content


def everything(message: EmailMessage) -> str:
    """All a recipient could read: headers and every decoded part."""
    found = [str(v) for v in message.values()]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append(payload.decode())
    return "\n".join(found)


def without_calendar(message: EmailMessage) -> None:
    assert shape(message) == PLAIN_SHAPE
    assert "BEGIN:VCALENDAR" not in everything(message)


def invite_of(message: EmailMessage, method: str) -> bytes:
    """The calendar bytes, after checking the iMIP structure (ICAL.md, invites rule 1)."""
    assert shape(message) == INVITE_SHAPE
    alternative, attachment = message.iter_parts()
    calendar = list(alternative.iter_parts())[2]
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == method
    assert str(calendar.get_param("charset")).upper() == "UTF-8"
    assert calendar["Content-Transfer-Encoding"] == "base64"
    data = calendar.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == data
    return data


def read_everywhere(data: bytes, readers: list[Reader]) -> Parsed:
    """What every parser makes of the one VEVENT; they must agree on all that matters."""
    seen = []
    for read in readers:
        (parsed,) = read(data)
        seen.append(
            (
                parsed.method,
                parsed.uid,
                parsed.start,
                parsed.end,
                parsed.status,
                parsed.sequence,
                parsed.summary,
                parsed.attendees,
                parsed.alarms,
            )
        )
    assert len(set(seen)) == 1, seen
    (parsed,) = readers[0](data)
    return parsed


def assert_invite(
    message: EmailMessage,
    readers: list[Reader],
    event: Event,
    *,
    method: str,
    sequence: int,
) -> Parsed:
    parsed = read_everywhere(invite_of(message, method), readers)
    assert (parsed.method, parsed.uid, parsed.sequence) == (method, event.uid, sequence)
    assert (parsed.start, parsed.end) == (event.starts_at, event.ends_at)
    assert parsed.status == ("CONFIRMED" if method == "REQUEST" else "CANCELLED")
    assert (parsed.attendees, parsed.alarms) == (1, 0)
    return parsed


async def test_booking_confirmed_is_an_invite_with_the_join_link(
    mail: Mail, readers: list[Reader]
) -> None:
    event = await make_event(mail.services)
    await book(mail.services, event.id, 1)
    assert await mail.deliver() == DeliveryReport(sent=1)

    message = mail.only(address(1))
    assert str(message["Subject"]).startswith(f"Bekräftad plats: {event.title}, ")
    assert str(message["To"]) == f"Person 1 <{address(1)}>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert JOIN_URL in text_of(message)
    assert f'href="{JOIN_URL}"' in html_of(message)
    assert "http://testserver/manage/" in text_of(message)
    assert_invite(message, readers, event, method="REQUEST", sequence=0)

    calendar = icalendar.Calendar.from_ical(invite_of(message, "REQUEST"))
    (vevent,) = calendar.events
    (attendee,) = vevent.attendees
    assert attendee == f"mailto:{address(1)}"
    assert vevent["ORGANIZER"] == f"mailto:{DEMO_AGENCY_EMAIL}"  # ORGANISER_EMAIL unset
    assert JOIN_URL in str(vevent["DESCRIPTION"])


async def test_waitlist_promotion_cancel_and_rebook(mail: Mail, readers: list[Reader]) -> None:
    event = await make_event(mail.services, capacity=1)
    first = await book(mail.services, event.id, 1)
    await book(mail.services, event.id, 2)
    await book(mail.services, event.id, 3)
    assert await mail.deliver() == DeliveryReport(sent=3)

    assert_invite(mail.only(address(1)), readers, event, method="REQUEST", sequence=0)
    for n, place in ((2, 1), (3, 2)):
        waiting = mail.only(address(n))
        assert str(waiting["Subject"]).startswith(f"Du står i kö: {event.title}, ")
        assert f"Du är nummer {place} i kön." in text_of(waiting)
        assert f"Du är nummer {place} i kön." in html_of(waiting)
        without_calendar(waiting)
        assert JOIN_URL not in everything(waiting)

    # Person 1 gives up the seat: their calendar drops it, person 2 gets it and the link.
    mail.clear()
    await cancel(mail.services, first.manage_token)
    assert await mail.deliver() == DeliveryReport(sent=2)
    cancelled = mail.only(address(1))
    assert str(cancelled["Subject"]).startswith(f"Avbokad: {event.title}, ")
    assert JOIN_URL not in text_of(cancelled)
    assert_invite(cancelled, readers, event, method="CANCEL", sequence=1)
    promoted = mail.only(address(2))
    assert str(promoted["Subject"]).startswith(f"Du har fått en plats: {event.title}, ")
    assert JOIN_URL in text_of(promoted)
    assert_invite(promoted, readers, event, method="REQUEST", sequence=0)
    assert mail.to(address(3)) == []

    # Person 1 books again (now behind person 3), and gets the seat when it frees up: the
    # REQUEST must outrank the CANCEL their calendar holds, or it would be ignored.
    mail.clear()
    async with mail.services.transaction() as session:
        await update_event(session, event.id, EventChanges(capacity=3))
    await book(mail.services, event.id, 1)
    assert await mail.deliver() == DeliveryReport(sent=2)
    assert_invite(mail.only(address(3)), readers, event, method="REQUEST", sequence=0)
    assert_invite(mail.only(address(1)), readers, event, method="REQUEST", sequence=2)


async def test_rescheduling_then_cancelling_the_event(mail: Mail, readers: list[Reader]) -> None:
    event = await make_event(mail.services, capacity=2)
    for n in (1, 2, 3):  # 3 waits
        await book(mail.services, event.id, n)
    await mail.deliver()
    mail.clear()

    starts = event.starts_at + timedelta(days=1, hours=2)
    async with mail.services.transaction() as session:
        moved = await update_event(
            session, event.id, EventChanges(starts_at=starts, venue="Sal Ärla")
        )
    assert (moved.starts_at, moved.ends_at) == (starts, starts + timedelta(hours=1))
    assert await mail.deliver() == DeliveryReport(sent=3)
    for n in (1, 2):
        changed = mail.only(address(n))  # one mail for the whole change, not one per field
        assert str(changed["Subject"]).startswith(f"Ändrat: {event.title}, ")
        assert "Sal Ärla" in text_of(changed)
        assert JOIN_URL in text_of(changed)
        assert_invite(changed, readers, moved, method="REQUEST", sequence=1)
    # The one in line is told what changed, with no invite (no calendar entry) and no link.
    told = mail.only(address(3))
    assert str(told["Subject"]).startswith(f"Ändrat: {event.title}, ")
    assert "Sal Ärla" in text_of(told)
    assert "står i kö" in text_of(told)
    without_calendar(told)
    assert JOIN_URL not in everything(told)

    mail.clear()
    async with mail.services.transaction() as session:
        gone = await cancel_event(session, event.id)
    assert await mail.deliver() == DeliveryReport(sent=3)
    for n in (1, 2):
        cancelled = mail.only(address(n))
        assert str(cancelled["Subject"]).startswith(f"Inställt: {event.title}, ")
        assert "Posten tas bort ur din kalender." in text_of(cancelled)
        assert JOIN_URL not in text_of(cancelled)
        assert_invite(cancelled, readers, gone, method="CANCEL", sequence=2)
    waiting = mail.only(address(3))
    assert str(waiting["Subject"]).startswith(f"Inställt: {event.title}, ")
    assert "Posten tas bort" not in text_of(waiting)
    # Nothing is left to cancel: the link leads on to the next dates, and says so.
    for n in (1, 2, 3):
        told = mail.only(address(n))
        assert "avboka" not in (text_of(told) + html_of(told)).lower()
        assert "Se nästa tillfällen att boka:" in text_of(told)
        assert "Se nästa tillfällen att boka" in html_of(told)
    without_calendar(waiting)
    assert JOIN_URL not in everything(waiting)


async def test_reminder_carries_the_join_link_and_no_invite(mail: Mail) -> None:
    starts = utcnow().replace(microsecond=0) + timedelta(hours=24) - timedelta(minutes=5)
    event = await make_event(
        mail.services, capacity=1, starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    for n in (1, 2):  # 2 waits
        await book(mail.services, event.id, n, now=starts - timedelta(days=2))
    await mail.deliver()
    mail.clear()
    settings = mail.services.settings
    async with mail.services.transaction() as session:
        await create_due_reminders(
            session,
            now=utcnow(),
            default_offsets=settings.reminder_offsets,
            grace=settings.reminder_grace,
        )

    assert await mail.deliver() == DeliveryReport(sent=1)
    reminder = mail.only(address(1))
    assert str(reminder["Subject"]).startswith(f"Påminnelse: {event.title}, ")
    assert "En påminnelse om att du har en plats." in text_of(reminder)
    assert JOIN_URL in text_of(reminder)
    assert f'href="{JOIN_URL}"' in html_of(reminder)
    without_calendar(reminder)
    assert mail.to(address(2)) == []


async def test_follow_up_lists_the_guide_examples(mail: Mail) -> None:
    starts = utcnow().replace(microsecond=0) - timedelta(hours=4)
    event = await make_event(mail.services, starts_at=starts, ends_at=starts + timedelta(hours=1))
    async with mail.services.transaction() as session:
        for slug, title in (("sms-paminnelser", "SMS-påminnelser"), ("e-arkiv", "E-arkiv & co")):
            await add_example(
                session, slug=slug, title=title, organisation="Sundsvalls kommun", summary="."
            )
            await link_example(session, event_id=event.id, example_slug=slug, note="")
    for n in (1, 2):
        await book(mail.services, event.id, n, now=starts - timedelta(days=1))
    await mail.deliver()
    mail.clear()

    async with mail.services.transaction() as session:
        assert await create_due_follow_ups(session, now=utcnow(), after=timedelta(hours=2)) == 2
    assert await mail.deliver() == DeliveryReport(sent=2)
    for n in (1, 2):
        follow_up = mail.only(address(n))
        assert str(follow_up["Subject"]).startswith(f"Tack för att du var med: {event.title}, ")
        text, html = text_of(follow_up), html_of(follow_up)
        sms = "http://testserver/guide/sms-paminnelser?lang=sv"
        assert f"- SMS-påminnelser (Sundsvalls kommun): {sms}" in text
        assert "- E-arkiv & co (Sundsvalls kommun): http://testserver/guide/e-arkiv?lang=sv" in text
        assert '<a href="http://testserver/guide/e-arkiv?lang=sv"' in html
        assert "E-arkiv &amp; co" in html
        without_calendar(follow_up)


async def test_html_is_escaped_and_text_is_literal(mail: Mail, readers: list[Reader]) -> None:
    title = 'Kod & kaffe <script>alert("hej")</script>'
    event = await make_event(mail.services, title=title)
    async with mail.services.transaction() as session:
        await booking.book(
            session,
            event_id=event.id,
            attendee=person(1, name="<b>Åsa</b>&co Östlund"),
            secret_key=SECRET,
        )
    await mail.deliver()

    message = mail.only(address(1))
    assert str(message["Subject"]).startswith(f"Bekräftad plats: {title}, ")
    text, html = text_of(message), html_of(message)
    assert title in text
    assert "Hej <b>Åsa</b>&co!" in text  # greeted by first name (notices.greeting)
    assert "<script>" not in html
    assert "<b>" not in html
    assert "Kod &amp; kaffe &lt;script&gt;alert(&#34;hej&#34;)&lt;/script&gt;" in html
    assert "Hej &lt;b&gt;Åsa&lt;/b&gt;&amp;co!" in html
    parsed = assert_invite(message, readers, event, method="REQUEST", sequence=0)
    assert parsed.summary == title


async def test_cancelled_registration_not_yet_told_and_then_rebooked(
    mail: Mail, readers: list[Reader]
) -> None:
    # Cancel and book again before the worker ran: the attendee's calendar must end up with
    # the event, whatever order the two mails would have travelled in.
    event = await make_event(mail.services)
    first = await book(mail.services, event.id, 1)
    await mail.deliver()
    mail.clear()
    await cancel(mail.services, first.manage_token)
    await book(mail.services, event.id, 1)

    await mail.deliver()
    received = mail.only(address(1))
    assert str(received["Subject"]).startswith(f"Bekräftad plats: {event.title}, ")
    assert_invite(received, readers, event, method="REQUEST", sequence=2)
    skipped = [r for r in await outbox(mail.services) if r.status == OutboxStatus.SKIPPED]
    assert [(r.kind, r.last_error) for r in skipped] == [
        (MessageKind.REGISTRATION_CANCELLED, "booked again since")
    ]
