"""Every mail to a person, and the text of their invite, comes in the language they booked in.

Two people book through the pages, one on the English page and one on the Swedish, and then
everything that can happen to a booking happens: a place in line, a promotion, the link sent
again, a reminder, an organiser's message, a change, a cancellation (their own and the
event's), the follow-up and a new personal calendar address. Each mail is delivered through
the real SMTP server on loopback and read back; the outbox row behind it (its Message-ID)
names the kind, so the test knows it saw every kind in each language.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import icalendar
import pytest
from sqlalchemy import update

from events.models import Event
from events.schedule import EventChanges
from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from mail.models import Audience, MessageKind, OutboxStatus
from registrations.feeds import feed_for, feed_token, replace_feed_address
from registrations.messaging import send_message, send_reminder_now
from registrations.models import Registration
from registrations.organising import cancel_event, update_event
from registrations.reminders import create_due_follow_ups
from tests.conftest import SECRET, Mail
from tests.factories import (
    csrf_in,
    csrf_of,
    mailed_manage_token,
    make_event,
    make_series,
    outbox,
    outbox_ids,
    registration_of,
)

EVE = {"name": "Eve Ek", "email": "eve.ek@kommun.example.se"}  # books in English
SIV = {"name": "Siv Sand", "email": "siv.sand@kommun.example.se"}  # books in Swedish

# What each kind's subject begins with, in Swedish and in English (the catalogue's words).
SUBJECTS = {
    MessageKind.BOOKING_CONFIRMED: ("Bekräftad plats:", "Seat confirmed:"),
    MessageKind.WAITLISTED: ("Du står i kö:", "You are on the waiting list:"),
    MessageKind.PROMOTED: ("Du har fått en plats:", "You have a seat:"),
    MessageKind.REMINDER: ("Påminnelse:", "Reminder:"),
    MessageKind.EVENT_CHANGED: ("Ändrat:", "Changed:"),
    MessageKind.EVENT_CANCELLED: ("Inställt:", "Cancelled:"),
    MessageKind.REGISTRATION_CANCELLED: ("Avbokad:", "Cancelled:"),
    MessageKind.ORGANISER_MESSAGE: ("Program", "Program"),  # the organiser's own words
    MessageKind.FOLLOW_UP: ("Tack för att du var med:", "Thank you for taking part:"),
    MessageKind.FEED_REPLACED: (
        "Ny adress till din personliga kalender",
        "New address for your personal calendar",
    ),
}
# Words only a mail in the other language would hold, in its text and HTML parts.
SWEDISH_ONLY = ("Hej ", "Se din bokning eller avboka", "Alla dina bokningar")
ENGLISH_ONLY = ("Hello ", "View or cancel your booking", "All your bookings")
# The invite's own text (DESCRIPTION), which calendars show beside the event.
INVITE_SWEDISH = ("Anslut till mötet:", "Avboka eller se din bokning:")
INVITE_ENGLISH = ("Join the meeting:", "Cancel or see your booking:")


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return str(text.get_content()), str(html.get_content())


def invite_description(message: EmailMessage) -> str | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            (vevent,) = icalendar.Calendar.from_ical(data).events
            return str(vevent.get("DESCRIPTION", ""))
    return None


def assert_in_language(message: EmailMessage, kind: MessageKind, language: str) -> None:
    english = language == "en"
    subject = str(message["Subject"])
    assert subject.startswith(SUBJECTS[kind][1 if english else 0]), (kind, subject)
    text, html = parts(message)
    assert f'<html lang="{language}">' in html, kind
    for word in SWEDISH_ONLY if english else ENGLISH_ONLY:
        assert word not in text, (kind, language, word)
        assert word not in html, (kind, language, word)
    for word in ENGLISH_ONLY[:1] if english else SWEDISH_ONLY[:1]:
        assert word in text, (kind, language, word)
    description = invite_description(message)
    if description is not None:
        for word in INVITE_SWEDISH if english else INVITE_ENGLISH:
            assert word not in description, (kind, language, word)
        assert (INVITE_ENGLISH if english else INVITE_SWEDISH)[1] in description, kind


async def kinds_of(services: Services, messages: list[EmailMessage]) -> list[MessageKind]:
    by_id = {row.id: row.kind for row in await outbox(services)}
    ids = outbox_ids(messages)
    return [by_id[row_id] for row_id in ids]


async def check_everyone(mail: Mail, seen: dict[str, set[MessageKind]]) -> None:
    """Deliver what is due; every mail to Eve is English, every mail to Siv Swedish."""
    await mail.deliver()
    for who, language in ((EVE, "en"), (SIV, "sv")):
        for message in mail.to(who["email"]):
            (kind,) = await kinds_of(mail.services, [message])
            assert_in_language(message, kind, language)
            seen[language].add(kind)
    mail.clear()


async def book_on_page(client: httpx.AsyncClient, page: str, who: dict[str, str]) -> None:
    data = {"csrf_token": await csrf_of(client, page), **who, "consent": "yes"}
    booked = await client.post(f"{page.partition('?')[0]}/book", data=data)
    assert booked.status_code == 303, booked.text


@pytest.fixture
async def browsers(mail: Mail) -> Any:
    """Two visitors of the site: one who chose English, one who reads it in Swedish."""
    app = create_app(mail.services.settings, mail.services)
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as en,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as sv,
    ):
        assert (await en.get("/?lang=en")).status_code == 200  # remembered in a cookie
        yield en, sv


async def test_every_mail_and_invite_comes_in_the_language_of_the_booking(
    mail: Mail, browsers: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    services = mail.services
    en, sv = browsers
    seen: dict[str, set[MessageKind]] = {"en": set(), "sv": set()}

    # One seat: Siv takes it, Eve waits in line; both book the series as well.
    event = await make_event(services, capacity=1)
    await book_on_page(sv, f"/events/{event.id}", SIV)
    await book_on_page(en, f"/events/{event.id}", EVE)
    first, second = await make_series(services, "kafeer", events=2)
    await book_on_page(en, "/series/kafeer", EVE)
    await book_on_page(sv, "/series/kafeer?lang=sv", SIV)
    assert (await registration_of(services, event.id, EVE["email"])).language == "en"
    assert (await registration_of(services, first.id, SIV["email"])).language == "sv"
    await check_everyone(mail, seen)

    # Siv gives up her seat on her manage page: Eve moves up. Eve cancels a series date.
    for client, who, event_id in ((sv, SIV, event.id), (en, EVE, second.id)):
        token = await mailed_manage_token(services, event_id, who["email"])
        page = f"/manage/{token}"
        # Cancelling asks first, on a page of its own where there is one.
        confirm = await client.get(f"{page}/cancel")
        form = confirm if confirm.status_code == 200 else await client.get(page)
        cancelled = await client.post(f"{page}/cancel", data={"csrf_token": csrf_in(form.text)})
        assert cancelled.status_code == 303
    await check_everyone(mail, seen)

    # Booking again after a while mails the booking's link again (no account needed).
    async with services.transaction() as session:
        await session.execute(update(Registration).values(updated_at=utcnow() - timedelta(hours=1)))
    await book_on_page(en, f"/events/{first.id}", EVE)
    await book_on_page(sv, f"/events/{first.id}", SIV)
    await check_everyone(mail, seen)

    # The booking's own .ics and the personal feed speak the booking's language too.
    for client, who, words in ((en, EVE, INVITE_ENGLISH), (sv, SIV, INVITE_SWEDISH)):
        token = await mailed_manage_token(services, first.id, who["email"])
        async with services.transaction() as session:
            personal_token = feed_token(await feed_for(session, who["email"], SECRET), SECRET)
        download = await client.get(f"/manage/{token}/event.ics")
        personal = await client.get(f"/feeds/{personal_token}.ics")
        for calendar in (download, personal):
            assert calendar.status_code == 200
            descriptions = [
                str(vevent["DESCRIPTION"])
                for vevent in icalendar.Calendar.from_ical(calendar.content).events
            ]
            assert descriptions
            assert all(words[0] in text for text in descriptions), (who, descriptions)

    # Siv joins the line again; a reminder and a message go out, the event moves, then is off.
    await book_on_page(sv, f"/events/{event.id}", SIV)
    async with services.transaction() as session:
        await send_reminder_now(session, event.id)
        await send_reminder_now(session, first.id)
        await send_message(
            session, event.id, subject="Program", body="Vi ses!", audience=Audience.ALL
        )
    await check_everyone(mail, seen)
    async with services.transaction() as session:
        await update_event(
            session,
            event.id,
            EventChanges(starts_at=event.starts_at + timedelta(days=1), venue="Sal Ärla"),
            note="Ny sal.",
        )
    await check_everyone(mail, seen)
    async with services.transaction() as session:
        await cancel_event(session, event.id)
    await check_everyone(mail, seen)

    # The first series date is over: the thank-you. Then a new personal calendar address.
    async with services.transaction() as session:
        over = utcnow() - timedelta(hours=4)
        await session.execute(
            update(Event)
            .where(Event.id == first.id)
            .values(starts_at=over, ends_at=over + timedelta(hours=1))
        )
        # Booked before it began, as a follow-up needs.
        await session.execute(
            update(Registration)
            .where(Registration.event_id == first.id)
            .values(confirmed_at=over - timedelta(days=1))
        )
        assert await create_due_follow_ups(session, now=utcnow(), after=timedelta(hours=2)) == 2
    await check_everyone(mail, seen)
    for who in (EVE, SIV):
        async with services.transaction() as session:
            feed = await feed_for(session, who["email"], SECRET)
            await replace_feed_address(session, feed_token(feed, SECRET), SECRET)
    await check_everyone(mail, seen)

    attendee_kinds = set(SUBJECTS)
    assert seen["en"] == attendee_kinds
    assert seen["sv"] == attendee_kinds - {MessageKind.PROMOTED}
    assert [row for row in await outbox(services) if row.status == OutboxStatus.FAILED] == []
