"""Composing an outbox row into a mail, from current data, or deciding it is moot.

Content is composed at delivery rather than when the row is written, so a reminder shows
the time as it is now, and a message whose reason has gone (a seat given up, an event
cancelled) is skipped instead of sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.calendar import build_invite
from events.entries import attendee_entry
from events.models import Event, EventStatus
from guide.catalogue import examples_for_event
from lunchkafe.i18n import format_span, translations
from lunchkafe.settings import Settings
from mail.models import MessageKind, OrganiserSend, OutboxMessage
from registrations.booking import manage_token
from registrations.feeds import feed_for, feed_token
from registrations.models import Registration, RegistrationStatus
from registrations.waitlist import waitlist_position

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"

# Kinds whose mail may carry the join link: they go only to confirmed attendees.
WITH_JOIN_LINK = {
    MessageKind.BOOKING_CONFIRMED,
    MessageKind.PROMOTED,
    MessageKind.REMINDER,
    MessageKind.EVENT_CHANGED,
    MessageKind.ORGANISER_MESSAGE,
}
REQUEST_KINDS = {MessageKind.BOOKING_CONFIRMED, MessageKind.PROMOTED, MessageKind.EVENT_CHANGED}
CANCEL_KINDS = {MessageKind.EVENT_CANCELLED, MessageKind.REGISTRATION_CANCELLED}


@dataclass(frozen=True)
class Composed:
    message: EmailMessage | None
    skip_reason: str | None = None


@cache
def _environment(language: str) -> jinja2.Environment:
    # Autoescape for HTML only: the plain-text part must show "&" as "&".
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(language), newstyle=True
    )
    return env


def _skip_reason(
    row: OutboxMessage,
    event: Event,
    registration: Registration,
    settings: Settings,
    now: datetime,
) -> str | None:
    kind = row.kind
    status = registration.status
    if kind in (
        MessageKind.BOOKING_CONFIRMED,
        MessageKind.PROMOTED,
        MessageKind.REMINDER,
        MessageKind.EVENT_CHANGED,
        MessageKind.FOLLOW_UP,
    ):
        if status != RegistrationStatus.CONFIRMED:
            return "the registration is no longer confirmed"
        if event.status == EventStatus.CANCELLED:
            return "the event was cancelled"
    if kind == MessageKind.WAITLISTED and status != RegistrationStatus.WAITLISTED:
        return "no longer on the waitlist"
    if kind == MessageKind.REGISTRATION_CANCELLED and status != RegistrationStatus.CANCELLED:
        # Booked again before this went out: the rebooking's invite carries the same SEQUENCE,
        # so a CANCEL arriving after it would take the event out of the attendee's calendar.
        return "booked again since"
    superseded = int(row.payload.get("event_sequence", event.sequence)) < event.sequence
    if kind == MessageKind.EVENT_CHANGED and superseded:
        return "a later change superseded this one"
    if kind == MessageKind.REMINDER:
        planned_for = row.payload.get("starts_at")
        if planned_for is not None and planned_for != event.starts_at.isoformat():
            return "the event moved since this reminder was planned"
        due = event.starts_at - timedelta(minutes=int(row.payload.get("offset", 0)))
        if now >= event.starts_at or now - due > settings.reminder_grace:
            return "too late to remind"
    if kind == MessageKind.ORGANISER_MESSAGE and status == RegistrationStatus.CANCELLED:
        return "the registration was cancelled"
    return None


async def compose(
    session: AsyncSession, row: OutboxMessage, settings: Settings, now: datetime
) -> Composed:
    """The mail for an outbox row as things stand now, or why it should not be sent."""
    if row.registration_id is None or row.event_id is None:
        return Composed(None, "the message has no recipient registration")
    registration = await session.get(Registration, row.registration_id)
    event = (
        await session.scalars(
            select(Event).options(selectinload(Event.series)).where(Event.id == row.event_id)
        )
    ).first()
    if registration is None or event is None:
        return Composed(None, "the registration or event no longer exists")
    reason = _skip_reason(row, event, registration, settings, now)
    if reason:
        return Composed(None, reason)

    base = settings.base_url
    token = manage_token(registration, settings.secret_key)
    manage_url = f"{base}/manage/{token}"
    event_url = f"{base}/events/{event.id}"
    confirmed = registration.status == RegistrationStatus.CONFIRMED
    linked = await examples_for_event(session, event.id)
    send = await session.get(OrganiserSend, row.send_id) if row.send_id else None
    feed = await feed_for(session, registration.email_normalised, settings.secret_key)
    context: dict[str, Any] = {
        "site_name": settings.site_name,
        "language": settings.default_language,
        "event": event,
        "registration": registration,
        "when": format_span(
            event.starts_at, event.ends_at, settings.timezone, settings.default_language
        ),
        "event_url": event_url,
        "manage_url": manage_url,
        "feed_url": f"{base}/feeds/{feed_token(feed, settings.secret_key)}.ics",
        "join_url": event.join_url if confirmed and row.kind in WITH_JOIN_LINK else None,
        "position": await waitlist_position(session, registration),
        "examples": [
            {
                "title": link.example.title,
                "organisation": link.example.organisation,
                "note": link.note,
                "url": f"{base}/guide/{link.example.slug}",
            }
            for link in linked
        ],
        "was_confirmed": bool(row.payload.get("was_confirmed")),
        "offset_minutes": int(row.payload.get("offset", 0)),
        "message_subject": send.subject if send else "",
        "message_body": send.body if send else "",
    }
    env = _environment(settings.default_language)
    name = row.kind.value
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(context).split())
    text = env.get_template(f"{name}.txt").render(context)
    html = env.get_template(f"{name}.html").render(context)

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = Address(display_name=registration.name, addr_spec=registration.email)
    message["Date"] = format_datetime(now)
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or settings.site_domain
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")

    method = "REQUEST" if row.kind in REQUEST_KINDS else None
    if row.kind in CANCEL_KINDS and row.payload.get("was_confirmed"):
        method = "CANCEL"
    if method:
        entry = attendee_entry(
            event,
            event_url=event_url,
            manage_url=manage_url,
            sequence=event.sequence + registration.sequence_bump,
        )
        ics = build_invite(
            entry,
            method=method,  # type: ignore[arg-type]
            organiser_email=settings.organiser_email,
            organiser_name=settings.site_name,
            attendee_email=registration.email,
            attendee_name=registration.name,
            now=now,
        )
        # ICAL.md: the calendar part goes last inside multipart/alternative, base64, with
        # method= matching METHOD:, then the same bytes as an invite.ics attachment.
        message.add_alternative(
            ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": method, "charset": "UTF-8"},
        )
        message.add_attachment(
            ics, maintype="application", subtype="ics", filename="invite.ics", cte="base64"
        )
    return Composed(message)
