"""Composing an outbox row into a mail, from current data, or deciding it is moot.

Content is composed at delivery rather than when the row is written, so a reminder shows
the time as it is now, and a message whose reason has gone (a seat given up, an event
cancelled) is skipped instead of sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from typing import Any, TypeVar

import jinja2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

import templates
from events.calendar import build_invite
from events.entries import attendee_entry, cancel_entry
from events.models import Event
from foundation.i18n import LANGUAGES, format_span, translations
from foundation.settings import Settings
from foundation.site_paths import url_in
from guide.catalogue import LinkedExample, examples_for_events
from mail import headers
from mail.models import MessageKind, OrganiserSend, OutboxMessage
from notices.changes_told import sentences
from notices.greeting import first_name, without_greeting
from notices.signature import signature
from notices.subjects import subject_day
from registrations.booking import manage_token
from registrations.change_notice import what_changed
from registrations.feeds import feed_token, feeds_for_emails
from registrations.models import Registration
from registrations.notices import gets_join_link, moot_reason
from registrations.waitlist import waitlist_position

T = TypeVar("T")

TEMPLATE_DIR = templates.DIRECTORY / "mail"

REQUEST_KINDS = {MessageKind.BOOKING_CONFIRMED, MessageKind.PROMOTED, MessageKind.EVENT_CHANGED}
CANCEL_KINDS = {MessageKind.EVENT_CANCELLED, MessageKind.REGISTRATION_CANCELLED}


@dataclass(frozen=True)
class Draft:
    """Everything one mail needs, loaded from the database; rendering needs no session."""

    row: OutboxMessage
    registration: Registration
    event: Event
    examples: list[LinkedExample]
    feed_token: str
    position: int | None
    send: OrganiserSend | None


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


async def load_drafts(
    session: AsyncSession, rows: Sequence[OutboxMessage], settings: Settings, now: datetime
) -> list[tuple[OutboxMessage, Draft | None, str | None]]:
    """For each row its draft, or why it is moot; a few queries for the whole batch."""
    registrations = await _by_id(session, Registration, {r.registration_id for r in rows})
    events = {
        e.id: e
        for e in (
            await session.scalars(
                select(Event)
                .options(selectinload(Event.series))
                .where(Event.id.in_({r.event_id for r in rows if r.event_id}))
            )
        ).all()
    }
    sends = await _by_id(session, OrganiserSend, {r.send_id for r in rows})
    examples = await examples_for_events(session, list(events))
    feeds = await feeds_for_emails(
        session, {reg.email_normalised for reg in registrations.values()}, settings.secret_key
    )
    drafts: list[tuple[OutboxMessage, Draft | None, str | None]] = []
    for row in rows:
        registration = registrations.get(row.registration_id or 0)
        event = events.get(row.event_id or 0)
        if registration is None or event is None:
            drafts.append((row, None, "the registration or event no longer exists"))
            continue
        feed = feeds[registration.email_normalised]
        reason = moot_reason(
            row,
            event,
            registration,
            now,
            reminder_grace=settings.reminder_grace,
            feed_token_hash=feed.token_hash,
        )
        if reason:
            drafts.append((row, None, reason))
            continue
        draft = Draft(
            row=row,
            registration=registration,
            event=event,
            examples=examples.get(event.id, []),
            feed_token=feed_token(feed, settings.secret_key),
            position=await waitlist_position(session, registration),
            send=sends.get(row.send_id or 0),
        )
        drafts.append((row, draft, None))
    return drafts


def recipient_language(registration: Registration, settings: Settings) -> str:
    """The language of every mail to this person and of their invite's text: the one they
    booked in (the page's, the API's, or the organiser's choice for them); the site's
    default only for a value no catalogue has."""
    language = registration.language
    return language if language in LANGUAGES else settings.default_language


async def _by_id(session: AsyncSession, model: type[T], ids: set[int | None]) -> dict[int, T]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    found = (await session.scalars(select(model).where(model.id.in_(wanted)))).all()  # type: ignore[attr-defined]
    return {item.id: item for item in found}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Person:
    """What a mail to one person says that is theirs alone: the name it greets and the
    tokens of their links (the manage link, the personal feed). A fan-out renders a mail
    once with stand-ins for these and puts each person's in (notices.fan_out)."""

    first_name: str
    manage_token: str
    feed_token: str


def person_of(draft: Draft, settings: Settings) -> Person:
    return Person(
        first_name(draft.registration.name),
        manage_token(draft.registration, settings.secret_key),
        draft.feed_token,
    )


@dataclass(frozen=True)
class Rendered:
    """A mail's words: the subject (one line), the plain text and the HTML, and the links
    an invite repeats."""

    subject: str
    text: str
    html: str
    language: str
    event_url: str
    manage_url: str


def invite_method(row: OutboxMessage) -> str | None:
    """The iTIP method of the calendar part a row's mail carries: REQUEST, CANCEL or none."""
    # A change told to someone in line carries no invite: they have no calendar entry yet.
    method = "REQUEST" if row.kind in REQUEST_KINDS and not row.payload.get("waitlisted") else None
    if row.kind in CANCEL_KINDS and row.payload.get("was_confirmed"):
        method = "CANCEL"
    return method


def render(
    draft: Draft, settings: Settings, now: datetime, *, mask_links: str | None = None
) -> EmailMessage:
    """The mail for a draft: text, HTML and, for invites, the calendar part.

    `mask_links`, when given, stands in for every link that belongs to the recipient (the
    manage link, the personal feed), so an organiser can be shown the mail. The join link
    is the event's, the same for every confirmed attendee, and the organiser's own: it is
    shown as it is, to those it goes to.
    """
    row, registration, event = draft.row, draft.registration, draft.event
    words = render_words(draft, settings, now, mask_links=mask_links)
    language, event_url, manage_url = words.language, words.event_url, words.manage_url
    subject, text, html = words.subject, words.text, words.html

    # People's words (a name, a title, an organiser's subject) go into headers only through
    # mail.headers, which does not trust them to have passed the door's rule.
    message = EmailMessage(policy=headers.POLICY)
    message["Subject"] = headers.subject(subject)
    message["From"] = settings.mail_from
    message["To"] = headers.mailbox(registration.name, registration.email)
    message["Date"] = format_datetime(now)
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or settings.site_domain
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")

    method = invite_method(row)
    if method:
        # One rule for what a CANCEL holds (events.entries.cancel_entry): never the join link.
        entry = (cancel_entry if method == "CANCEL" else attendee_entry)(
            event,
            event_url=event_url,
            manage_url=manage_url,
            sequence=registration.invite_sequence(event),
            language=language,
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
    headers.verify_headers(message)
    return message


def render_words(
    draft: Draft,
    settings: Settings,
    now: datetime,
    *,
    mask_links: str | None = None,
    person: Person | None = None,
) -> Rendered:
    """The subject, text and HTML of a draft's mail; `person` (else the draft's own) gives
    the name greeted and the tokens of the links (see Person); `mask_links` as in render."""
    row, registration, event = draft.row, draft.registration, draft.event
    person = person or person_of(draft, settings)
    base = settings.base_url
    language = recipient_language(registration, settings)
    # Every link to the site opens in the mail's language, whatever the device's cookie.
    manage_url = mask_links or url_in(language, base, "manage", token=person.manage_token)
    event_url = url_in(language, base, "event", event_id=event.id)
    send = draft.send
    join_url = event.join_url if gets_join_link(row.kind, registration) else None
    changed = what_changed(row.payload) if row.kind == MessageKind.EVENT_CHANGED else []
    if join_url is None:
        changed = [c for c in changed if c.what != "join_url"]
    context: dict[str, Any] = {
        **signature(settings, language),
        "site_name": settings.site_name,
        "language": language,
        "event": event,
        "registration": registration,
        # Greeted once, by first name (notices.greeting).
        "first_name": person.first_name,
        "when": format_span(event.starts_at, event.ends_at, settings.timezone, language),
        # The day a subject names (notices.subjects): each date of a series apart.
        "day": subject_day(event.starts_at, settings.timezone, language, now=now),
        # What a change changed, old and new, as the change captured it.
        "changed": sentences(changed, language=language, tz_name=settings.timezone),
        "event_url": event_url,
        "manage_url": manage_url,
        # The page for the personal calendar (subscribe, replace the address), not the
        # bare .ics: it spans every booking of the address, so only mail carries it.
        "feed_url": mask_links or url_in(language, base, "feed_page", token=person.feed_token),
        "join_url": join_url,
        "position": draft.position,
        "examples": [
            {
                "title": link.example.title,
                "organisation": link.example.organisation,
                "note": link.note,
                "url": url_in(language, base, "guide_example", slug=link.example.slug),
                # Whom to call about it: the follow-up mail names them (issue 12 item 5).
                "contact_name": link.example.contact_name,
                "contact_role": link.example.contact_role,
                "contact_email": link.example.contact_email,
                "contact_phone": link.example.contact_phone,
            }
            for link in draft.examples
        ],
        "was_confirmed": bool(row.payload.get("was_confirmed")),
        # A seat or place in line cancelled by an organiser, not by the person themselves.
        "by_organiser": bool(row.payload.get("by_organiser")),
        "offset_minutes": int(row.payload.get("offset", 0)),
        "message_subject": send.subject if send else "",
        "message_body": without_greeting(send.body) if send else "",
        # An organiser's note with a change or a cancellation (registrations.organising).
        "organiser_note": str(row.payload.get("note", "")),
        "waitlisted_notice": bool(row.payload.get("waitlisted")),
    }
    env = _environment(language)
    name = row.kind.value
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(context).split())
    text = env.get_template(f"{name}.txt").render(context)
    html = env.get_template(f"{name}.html").render(context)
    return Rendered(subject, text, html, language, event_url, manage_url)
