"""Organisers' reminders and messages, their progress, and the outbox they watch and retry.

Every send and retry is audit-logged with ids and counts only: who got a message is in the
outbox, and the log outlives it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from events.schedule import event_by_id
from mail import outbox
from mail.models import Audience, OrganiserSend, OutboxMessage
from organisers import audit
from organisers.attendees_workspace import logged_view
from organisers.models import Organiser
from organisers.workspace import MAIL_LATE_AFTER
from registrations import messaging
from registrations.models import RegistrationStatus


@dataclass(frozen=True)
class MessagesPage:
    """An event, how many are confirmed and waitlisted, and its sends (newest first) with
    their progress (queued, sent, failed, skipped)."""

    event: Event
    confirmed: int
    waitlisted: int
    sends: list[tuple[OrganiserSend, dict[str, int]]]


async def messages_page(session: AsyncSession, event_id: int) -> MessagesPage:
    """What the event's messages page shows; EventNotFound for an unknown id."""
    event = await event_by_id(session, event_id)
    everyone = await messaging.audience_of(session, event.id, Audience.ALL)
    confirmed = sum(r.status == RegistrationStatus.CONFIRMED for r in everyone)
    return MessagesPage(
        event=event,
        confirmed=confirmed,
        waitlisted=len(everyone) - confirmed,
        sends=await outbox.sends_of_event(session, event.id),
    )


async def send_message(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    *,
    subject: str,
    body: str,
    audience: Audience,
    now: datetime,
    send_key: str | None = None,
) -> OrganiserSend:
    """Queue an organiser's message to `audience` (registrations.messaging.send_message, which
    raises what it refuses) and log it with the send's id and recipient count, and the hash
    of its one-time key (`send_key`, organisers.send_keys) when it has one."""
    send = await messaging.send_message(
        session, event_id, subject=subject, body=body, audience=audience
    )
    await _log(session, organiser, "message.sent", send, now, send_key)
    return send


async def remind_now(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    now: datetime,
    send_key: str | None = None,
) -> OrganiserSend:
    """Queue a reminder to every confirmed attendee now, and log it (with `send_key`, as
    send_message)."""
    send = await messaging.send_reminder_now(session, event_id)
    await _log(session, organiser, "reminder.sent", send, now, send_key)
    return send


async def _log(
    session: AsyncSession,
    organiser: Organiser,
    action: str,
    send: OrganiserSend,
    now: datetime,
    send_key: str | None,
) -> None:
    progress = await outbox.send_progress(session, send.id)
    await audit.record(
        session,
        organiser,
        action,
        f"event:{send.event_id}",
        now=now,
        send=send.id,
        audience=send.audience.value,
        recipients=sum(progress.values()),
        **({"send_key": send_key} if send_key else {}),
    )


@dataclass(frozen=True)
class SendStatus:
    """One send, its event and its progress: queued (pending or being sent), sent, failed,
    skipped (made moot: a seat given up since)."""

    send: OrganiserSend
    event: Event
    progress: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.progress.values())

    @property
    def done(self) -> bool:
        return self.progress["queued"] == 0


async def send_status(session: AsyncSession, send_id: int) -> SendStatus:
    """A send's progress; SendNotFound for an id no send has."""
    progress = await outbox.send_progress(session, send_id)
    send = await session.get(OrganiserSend, send_id)
    assert send is not None  # send_progress found it
    return SendStatus(send=send, event=await event_by_id(session, send.event_id), progress=progress)


@dataclass(frozen=True)
class EventOutbox:
    """An event and its outbox messages, newest first."""

    event: Event
    messages: list[OutboxMessage]


async def event_outbox(
    session: AsyncSession, organiser: Organiser, event_id: int, now: datetime
) -> EventOutbox:
    """An event's outbox, logged as a view of its attendees (every recipient's address is
    on it: organisers.attendees_workspace.logged_view); EventNotFound for an unknown id."""
    event = await event_by_id(session, event_id)
    found = await outbox.messages_of_event(session, event.id)
    await logged_view(session, organiser, event.id, now, rows=len(found), page="outbox")
    return EventOutbox(event=event, messages=found)


def _may_see(organiser: Organiser, message: OutboxMessage) -> bool:
    """Mail about an event is every organiser's to watch; mail about an account (an
    invitation, a password reset) is the admins' only, as the accounts are."""
    return message.event_id is not None or organiser.is_admin


async def troubled(
    session: AsyncSession, organiser: Organiser, now: datetime
) -> list[OutboxMessage]:
    """Across events: messages that failed, and waiting ones late by more than the overview's
    warning allows (MAIL_LATE_AFTER); account mail only for admins. The recipients'
    addresses are shown, so each event's rows are logged as a view of its outbox."""
    found = await outbox.troubled_messages(session, now - MAIL_LATE_AFTER)
    shown = [message for message in found if _may_see(organiser, message)]
    per_event = Counter(m.event_id for m in shown if m.event_id is not None)
    for event_id, rows in sorted(per_event.items()):
        await logged_view(session, organiser, event_id, now, rows=rows, page="outbox")
    return shown


async def failed_message(
    session: AsyncSession, organiser: Organiser, message_id: int
) -> OutboxMessage:
    """A failed message to confirm a retry of; raises as mail.outbox.failed_message, and
    OutboxMessageNotFound for account mail to an organiser who is not an admin."""
    message = await outbox.failed_message(session, message_id)
    if not _may_see(organiser, message):
        raise outbox.OutboxMessageNotFound(message_id)
    return message


async def retry(
    session: AsyncSession, organiser: Organiser, message_id: int, now: datetime
) -> OutboxMessage:
    """Send a failed message again now (mail.outbox.retry_failed), and log it. Account
    mail is the admins' to retry (OutboxMessageNotFound to anyone else)."""
    await failed_message(session, organiser, message_id)
    message = await outbox.retry_failed(session, message_id, now)
    await audit.record(
        session,
        organiser,
        "mail.retried",
        f"outbox:{message.id}",
        now=now,
        event=message.event_id,
        attempts=message.attempts,
    )
    return message
