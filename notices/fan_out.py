"""A fan-out's mails rendered once per event, kind and language, then made personal.

A reminder to 10,000 attendees is one text in at most two languages: only the name greeted,
the tokens in the manage and personal-calendar links, and the To and Message-ID headers
differ. Rendering the templates and building an EmailMessage for each cost four times the
sending (issue 11), so a batch renders each shape once with stand-ins for a person's parts,
folds the headers the shape shares once per relay form, and makes each mail by putting the
person's parts in: their name as typed in the text and HTML-escaped in the HTML (as Jinja's
autoescape writes it), their tokens (URL-safe base64, the same in both), their To and
Message-ID folded by mail.headers like every header. The bytes are assembled by mail.wire.

Mails with a calendar part (invites, cancellations) are each their own (UID, SEQUENCE,
ATTENDEE): they are composed whole by notices.compose.render, as before.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from aiosmtplib.email import extract_sender
from markupsafe import escape

from foundation.settings import Settings
from mail import headers, wire
from mail.addresses import Undeliverable
from mail.wire import WireMail
from notices.compose import (
    Draft,
    Person,
    Rendered,
    invite_method,
    person_of,
    recipient_language,
    render_words,
)
from registrations.notices import gets_join_link

# Stand-ins for a person's parts: letters and digits only, so escaping and URL building keep
# them as they are, and a random part, so no text a person or organiser typed can hold one.
_RANDOM = secrets.token_hex(10)
_NAME = f"q{_RANDOM}n"
_MANAGE = f"q{_RANDOM}m"
_FEED = f"q{_RANDOM}f"
_STAND_INS = Person(first_name=_NAME, manage_token=_MANAGE, feed_token=_FEED)


@dataclass
class _Shape:
    """One rendering shared by every mail of a batch with the same key (see _key)."""

    words: Rendered
    boundary: str
    before: EmailMessage  # Subject, From: before To
    middle: EmailMessage  # Date: between To and Message-ID
    after: EmailMessage  # Auto-Submitted and the MIME headers
    sender: str
    folded: dict[bool, tuple[bytes, bytes, bytes]] = field(default_factory=dict)

    def heads(self, utf8: bool) -> tuple[bytes, bytes, bytes]:
        if utf8 not in self.folded:
            self.folded[utf8] = (
                wire.folded(self.before, utf8),
                wire.folded(self.middle, utf8),
                wire.folded(self.after, utf8),
            )
        return self.folded[utf8]


def _key(draft: Draft, language: str) -> str:
    row = draft.row
    # Everything the templates read that is not a person's own part (compose.render_words):
    # the kind, the event, the language, what the row's payload says, the organiser's send,
    # whether the join link goes to this person, and a place in line.
    return json.dumps(
        [
            row.kind.value,
            draft.event.id,
            language,
            row.payload,
            row.send_id,
            draft.position,
            gets_join_link(row.kind, draft.registration),
        ],
        sort_keys=True,
        default=str,
    )


class FanOut:
    """Makes a batch's mails as WireMail, rendering each shape once (not thread-safe; one
    per batch, so every mail shows the data as loaded for it)."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self._settings = settings
        self._now = now
        self._shapes: dict[str, _Shape | None] = {}
        address = parseaddr(settings.mail_from)[1]
        self._domain = address.rpartition("@")[2] or settings.site_domain

    def mail(self, draft: Draft) -> WireMail | None:
        """The draft's mail as bytes, or None for one that needs composing whole (a calendar
        part). Raises mail.headers.UnsafeHeader as compose.render does."""
        if invite_method(draft.row) is not None:
            return None
        shape = self._shape(draft)
        if shape is None:
            return None
        person = person_of(draft, self._settings)
        text = _personal(shape.words.text, person, str(person.first_name))
        html = _personal(shape.words.html, person, str(escape(person.first_name)))
        registration = draft.registration
        to = headers.mailbox(registration.name, registration.email)
        # Each header's line is checked now, for the relay form that carries the address
        # (the bytes are made once the relay has said whether it speaks SMTPUTF8).
        try:
            headers.mailbox_line("To", to, utf8=False)
        except Undeliverable:
            headers.mailbox_line("To", to, utf8=True)
        message_id = make_msgid(idstring=f"outbox{draft.row.id}", domain=self._domain)
        mid = self._message_id_line(message_id)
        boundary = shape.boundary

        def data(utf8: bool) -> bytes:
            before, middle, after = shape.heads(utf8)
            own = headers.mailbox_line("To", to, utf8=utf8)
            return wire.alternative(before + own + middle + mid + after, boundary, text, html)

        # The envelope's recipient as aiosmtplib takes it from a To header (extract_recipients).
        return WireMail(shape.sender, [to.addr_spec], message_id, data)

    @staticmethod
    def _message_id_line(message_id: str) -> bytes:
        line = f"Message-ID: {message_id}\r\n"
        if line.isascii() and len(line) <= 80:  # 78 characters and CRLF: no folding
            return line.encode("ascii")
        head = EmailMessage(policy=headers.POLICY)
        head["Message-ID"] = message_id
        headers.verify_headers(head)
        return wire.folded(head, False)

    def _shape(self, draft: Draft) -> _Shape | None:
        key = _key(draft, recipient_language(draft.registration, self._settings))
        if key not in self._shapes:
            self._shapes[key] = self._render(draft)
        return self._shapes[key]

    def _render(self, draft: Draft) -> _Shape | None:
        settings = self._settings
        words = render_words(draft, settings, self._now, person=_STAND_INS)
        if any(s in words.subject for s in (_NAME, _MANAGE, _FEED)):
            return None  # a subject that is a person's own: composed whole
        boundary = wire.new_boundary()
        before = EmailMessage(policy=headers.POLICY)
        before["Subject"] = headers.subject(words.subject)
        before["From"] = settings.mail_from
        middle = EmailMessage(policy=headers.POLICY)
        middle["Date"] = format_datetime(self._now)
        after = EmailMessage(policy=headers.POLICY)
        after["Auto-Submitted"] = "auto-generated"
        wire.alternative_head(after, boundary)
        for part in (before, middle, after):
            headers.verify_headers(part)
        sender = extract_sender(before)
        if sender is None:
            raise ValueError("No From header provided in message")
        return _Shape(words, boundary, before, middle, after, sender)


def _personal(rendered: str, person: Person, name: str) -> str:
    # The tokens first: a name is put in last, so nothing in it is taken for a stand-in.
    return (
        rendered.replace(_MANAGE, person.manage_token)
        .replace(_FEED, person.feed_token)
        .replace(_NAME, name)
    )
