"""What one recipient of an organiser's send will get, shown before it is sent.

The mail is composed by notices.compose.render, the code that composes it at delivery, from
a message that is never queued: nothing is written. Links that belong to the recipient (the
manage link, the personal feed) are masked, so the organiser's screen never holds a link
that opens someone's booking; the join link, the same for everyone and the organiser's own,
is shown as it will be sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.errors import EventNotFound
from events.models import Event, EventStatus
from events.opening import MSG_NOT_PUBLISHED, BookingClosed
from foundation.errors import N_
from foundation.i18n import translations
from foundation.settings import Settings
from guide.catalogue import examples_for_events
from mail.models import Audience, MessageKind, OrganiserSend, OutboxMessage, OutboxStatus
from notices.compose import Draft, recipient_language, render
from registrations.messaging import audience_of, checked_message
from registrations.models import Registration, RegistrationStatus
from registrations.waitlist import waitlist_position

# What stands in for a recipient's own links, in the mail's language.
MASKED_LINK = N_("(personlig länk)")


@dataclass(frozen=True)
class Preview:
    """The send as its first recipient will get it (None when nobody would get it), and how
    many will get it. `subject`, `text` and `html` are the mail's, personal links masked.
    A message to both the confirmed and the waitlist also shows the text part as the first
    in line gets it (`waitlisted_name`, `waitlisted_text`), framed by their place in line and
    without the join link; None otherwise."""

    event: Event
    kind: MessageKind
    audience: Audience
    subject: str  # the organiser's subject as it will be sent (cleaned); "" for a reminder
    body: str
    recipients: int
    recipient_name: str | None
    mail_subject: str | None
    text: str | None
    html: str | None
    waitlisted_name: str | None = None
    waitlisted_text: str | None = None


async def preview_send(
    session: AsyncSession,
    settings: Settings,
    event_id: int,
    *,
    kind: MessageKind,
    audience: Audience,
    now: datetime,
    subject: str = "",
    body: str = "",
) -> Preview:
    """Compose what a reminder (kind REMINDER, to the confirmed) or an organiser message
    would be for the first recipient in `audience`, without writing anything.

    Raises EventNotFound, BookingClosed for an event that is not published (sending would be
    refused), and, for a message, RegistrationError when the subject or body is not allowed.
    """
    if kind == MessageKind.ORGANISER_MESSAGE:
        subject, body = checked_message(subject, body)
    else:
        kind, audience, subject, body = MessageKind.REMINDER, Audience.CONFIRMED, "", ""
    event = await session.scalar(
        select(Event).options(selectinload(Event.series)).where(Event.id == event_id)
    )
    if event is None:
        raise EventNotFound()
    if event.status != EventStatus.PUBLISHED:
        raise BookingClosed(MSG_NOT_PUBLISHED)
    everyone = await audience_of(session, event.id, audience)
    if not everyone:
        return Preview(event, kind, audience, subject, body, 0, None, None, None, None)
    first = everyone[0]
    examples = (await examples_for_events(session, [event.id]))[event.id]
    # Neither object is added to the session: they exist only to be composed.
    send = OrganiserSend(
        event_id=event.id, kind=kind, audience=audience, subject=subject, body=body
    )

    async def composed(recipient: Registration) -> EmailMessage:
        row = OutboxMessage(
            kind=kind,
            recipient=recipient.email,
            dedupe_key="preview",
            event_id=event.id,
            registration_id=recipient.id,
            payload={"offset": 0, "manual": True},
            status=OutboxStatus.PENDING,
            attempts=0,
        )
        draft = Draft(
            row=row,
            registration=recipient,
            event=event,
            examples=examples,
            feed_token="",  # masked below; asking for it could create the feed
            position=await waitlist_position(session, recipient),
            send=send,
        )
        masked = translations(recipient_language(recipient, settings)).gettext(MASKED_LINK)
        return render(draft, settings, now, mask_links=masked)

    mail = await composed(first)
    # A message to both: the first in line reads a frame of their own (their place, no link).
    waiting = next((r for r in everyone if r.status == RegistrationStatus.WAITLISTED), None)
    in_line = _part(await composed(waiting), "plain") if waiting and waiting is not first else None
    return Preview(
        event,
        kind,
        audience,
        subject,
        body,
        len(everyone),
        first.name,
        str(mail["Subject"]),
        _part(mail, "plain"),
        _part(mail, "html"),
        waitlisted_name=waiting.name if waiting and in_line else None,
        waitlisted_text=in_line,
    )


def _part(mail: EmailMessage, subtype: str) -> str:
    part = mail.get_body((subtype,))
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content
