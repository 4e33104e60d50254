"""Organisers writing to the people booked on an event: a reminder now, or a message."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event, EventStatus
from events.opening import MSG_NOT_PUBLISHED, BookingClosed
from events.schedule import event_by_id
from foundation.errors import N_
from foundation.text import MSG_REQUIRED, MSG_TOO_LONG, TextRefused, clean_line, clean_text
from mail.models import Audience, MessageKind, OrganiserSend
from mail.outbox import NewMessage, enqueue_many, new_send
from registrations.errors import RegistrationError
from registrations.models import Registration, RegistrationStatus

MAX_SUBJECT = 300  # characters
MAX_BODY = 20_000  # characters: a long letter, far below what a mail can carry
MSG_SUBJECT_AND_BODY = N_("Skriv en ämnesrad (högst 300 tecken) och ett meddelande.")

AUDIENCE_STATUSES = {
    Audience.CONFIRMED: (RegistrationStatus.CONFIRMED,),
    Audience.WAITLISTED: (RegistrationStatus.WAITLISTED,),
    Audience.ALL: (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED),
}


async def send_reminder_now(session: AsyncSession, event_id: int) -> OrganiserSend:
    """Remind every confirmed attendee now, with the join link."""
    event = await _open_event(session, event_id)
    send = await new_send(
        session, event_id=event.id, kind=MessageKind.REMINDER, audience=Audience.CONFIRMED
    )
    await _fan_out(session, event, send, MessageKind.REMINDER, Audience.CONFIRMED)
    return send


async def send_message(
    session: AsyncSession, event_id: int, *, subject: str, body: str, audience: Audience
) -> OrganiserSend:
    """Send an organiser's own words to the confirmed, the waitlisted, or both.

    The subject is one line (it becomes the mail's Subject header), the body any number of
    lines; both follow foundation.text's rule. Raises RegistrationError saying what to fix.
    """
    subject, body = checked_message(subject, body)
    event = await _open_event(session, event_id)
    send = await new_send(
        session,
        event_id=event.id,
        kind=MessageKind.ORGANISER_MESSAGE,
        audience=audience,
        subject=subject,
        body=body,
    )
    await _fan_out(session, event, send, MessageKind.ORGANISER_MESSAGE, audience)
    return send


def checked_message(subject: str, body: str) -> tuple[str, str]:
    """An organiser's (subject, body) as they will be sent, cleaned by foundation.text's rule;
    RegistrationError saying what to fix when either is empty, too long or not text."""
    try:
        subject = clean_line(subject, max_length=MAX_SUBJECT, required=True)
        body = clean_text(body, max_length=MAX_BODY, required=True)
    except TextRefused as exc:
        if exc.msgid in (MSG_REQUIRED, MSG_TOO_LONG):
            raise RegistrationError(MSG_SUBJECT_AND_BODY) from None
        raise RegistrationError(exc.msgid) from None
    return subject, body


async def audience_of(
    session: AsyncSession, event_id: int, audience: Audience
) -> list[Registration]:
    """Who a send to `audience` reaches now, in the order their messages are queued."""
    return list(
        (
            await session.scalars(
                select(Registration)
                .where(
                    Registration.event_id == event_id,
                    Registration.status.in_(AUDIENCE_STATUSES[audience]),
                )
                .order_by(Registration.id)
            )
        ).all()
    )


async def _open_event(session: AsyncSession, event_id: int) -> Event:
    event = await event_by_id(session, event_id)
    if event.status != EventStatus.PUBLISHED:
        raise BookingClosed(MSG_NOT_PUBLISHED)
    return event


async def _fan_out(
    session: AsyncSession,
    event: Event,
    send: OrganiserSend,
    kind: MessageKind,
    audience: Audience,
) -> None:
    registrations = await audience_of(session, event.id, audience)
    await enqueue_many(
        session,
        [
            NewMessage(
                kind=kind,
                recipient=r.email,
                dedupe_key=f"send:{send.id}:{r.id}",
                event_id=event.id,
                registration_id=r.id,
                send_id=send.id,
                # offset 0: "too late" for a manual reminder only once the event has begun.
                payload={"offset": 0, "manual": True},
            )
            for r in registrations
        ],
    )
