"""A change mail says what changed, old and new, in the recipient's language; those in line are
told too, without an invite or the join link; an organiser's message greets once, by first name.

Mails go through the real SMTP server on loopback. The old values exist only in the outbox
row written with the change: by the time the worker composes, the event holds the new ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from events.schedule import EventChanges
from mail.models import Audience
from notices.delivery import DeliveryReport
from registrations import booking
from registrations.messaging import send_message
from registrations.organising import update_event
from tests.conftest import SECRET, Mail
from tests.factories import JOIN_URL, address, make_event, person

# Wednesday 16 December 2026, 12.00–13.00 in Stockholm (UTC+1).
STARTS = datetime(2026, 12, 16, 11, 0, tzinfo=UTC)
NEW_LINK = "https://meet.example.se/nytt-rum"


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def has_invite(message: EmailMessage) -> bool:
    return any(part.get_content_type() == "text/calendar" for part in message.walk())


async def booked(mail: Mail, event_id: int, n: int, language: str, **fields: str) -> None:
    async with mail.services.transaction() as session:
        await booking.book(
            session,
            event_id=event_id,
            attendee=person(n, language=language, **fields),
            secret_key=SECRET,
        )


async def test_the_change_mail_says_what_changed_old_and_new(mail: Mail) -> None:
    event = await make_event(
        mail.services,
        capacity=1,
        title="Lunchkafé om förenkling",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
    )
    await booked(mail, event.id, 1, "sv")  # the seat
    await booked(mail, event.id, 2, "en")  # in line, reads English
    await mail.deliver()
    mail.clear()

    async with mail.services.transaction() as session:
        await update_event(
            session,
            event.id,
            EventChanges(
                starts_at=STARTS + timedelta(days=1),
                title="Lunchkafé om bygglov",
                venue="Sal Ärla",
                join_url=NEW_LINK,
                allow_past=True,
            ),
            note="Vi byter sal och dag.",
        )
    assert await mail.deliver() == DeliveryReport(sent=2)

    confirmed = text_of(mail.only(address(1)))
    assert (
        "Ny tid: torsdag 17 december 2026, kl. 12.00–13.00 "
        "(tidigare onsdag 16 december 2026, kl. 12.00–13.00)"
    ) in confirmed
    assert "Ny titel: Lunchkafé om bygglov (tidigare Lunchkafé om förenkling)" in confirmed
    assert "Plats: Sal Ärla (ny)" in confirmed
    assert f"Ny länk till mötet: {NEW_LINK}" in confirmed
    assert JOIN_URL not in confirmed  # the old link leads nowhere now
    assert "Vi byter sal och dag." in confirmed
    assert "<li>Ny titel: Lunchkafé om bygglov (tidigare Lunchkafé om förenkling)</li>" in (
        html_of(mail.only(address(1)))
    )
    assert has_invite(mail.only(address(1)))

    # In line, in English: told of the time, title and place; no link, old or new; no invite.
    waiting = mail.only(address(2))
    told = text_of(waiting)
    assert (
        "New time: Thursday 17 December 2026, 12:00–13:00 "
        "(was Wednesday 16 December 2026, 12:00–13:00)"
    ) in told
    assert "New title: Lunchkafé om bygglov (was Lunchkafé om förenkling)" in told
    assert "Location: Sal Ärla (new)" in told
    assert "Vi byter sal och dag." in told
    for link in (NEW_LINK, JOIN_URL):
        assert link not in told
        assert link not in html_of(waiting)
    assert not has_invite(waiting)


async def test_a_change_not_yet_told_is_told_with_the_next(mail: Mail) -> None:
    """Two changes before the worker runs: the first's mail is folded into the second's (and
    skipped), which says what changed since the person was last told, from both."""
    event = await make_event(mail.services, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))
    await booked(mail, event.id, 1, "sv")
    await mail.deliver()
    mail.clear()

    for changes in (
        EventChanges(starts_at=STARTS + timedelta(days=1), allow_past=True),
        EventChanges(venue="Sal Ärla"),
    ):
        async with mail.services.transaction() as session:
            await update_event(session, event.id, changes)
    assert await mail.deliver() == DeliveryReport(sent=1)
    told = text_of(mail.only(address(1)))
    assert "(tidigare onsdag 16 december 2026, kl. 12.00–13.00)" in told
    assert "Plats: Sal Ärla (ny)" in told


async def test_the_line_hears_of_a_new_time_when_a_link_change_follows(mail: Mail) -> None:
    """A time change, then a change of the join link only, both before the worker runs: the
    link change says nothing to those in line, so the time change is still theirs to hear
    (it was once skipped as 'superseded' by the higher SEQUENCE, and nothing replaced it)."""
    later = STARTS + timedelta(days=1)
    event = await make_event(
        mail.services, capacity=1, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1)
    )
    await booked(mail, event.id, 1, "sv")  # the seat
    await booked(mail, event.id, 2, "sv")  # in line
    await mail.deliver()
    mail.clear()

    for changes in (
        EventChanges(starts_at=later, ends_at=later + timedelta(hours=1), allow_past=True),
        EventChanges(join_url=NEW_LINK),
    ):
        async with mail.services.transaction() as session:
            await update_event(session, event.id, changes)
    await mail.deliver()

    waiting = mail.only(address(2))
    told = text_of(waiting)
    assert "Ny tid: torsdag 17 december 2026, kl. 12.00–13.00" in told
    assert "(tidigare onsdag 16 december 2026, kl. 12.00–13.00)" in told
    for link in (NEW_LINK, JOIN_URL):
        assert link not in told
        assert link not in html_of(waiting)
    seated = text_of(mail.only(address(1)))  # one mail with both, as before
    assert "(tidigare onsdag 16 december 2026, kl. 12.00–13.00)" in seated
    assert NEW_LINK in seated


async def test_an_organisers_message_greets_once_by_first_name(mail: Mail) -> None:
    event = await make_event(mail.services)
    await booked(mail, event.id, 1, "sv", name="Maria Malm")
    await booked(mail, event.id, 2, "en", name="Eve Ek")
    await mail.deliver()
    mail.clear()

    for body in ("Hej!\n\nVi ses i sal 3.", "Hej alla, vi ses i sal 3."):
        async with mail.services.transaction() as session:
            await send_message(
                session, event.id, subject="Sal", body=body, audience=Audience.CONFIRMED
            )
        await mail.deliver()
        maria, eve = text_of(mail.only(address(1))), text_of(mail.only(address(2)))
        assert maria.count("Hej") == 1 + body.count("Hej alla")
        assert "Hej Maria!" in maria
        assert "Maria Malm!" not in maria
        assert "Hello Eve," in eve
        assert "Hej!" not in eve
        assert "vi ses i sal 3." in maria.lower()
        mail.clear()
