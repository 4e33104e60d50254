"""One send per form, and per API request: one-time send keys, and a reminder asked again.

A preview (a message's or a reminder's) carries a fresh random key in its form; the API
takes the client's own as `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header).
The send a key made is found again through its audit entry, which holds the key's SHA-256
(with the organiser's id: a key is only ever one organiser's), never the key itself: no
migration was needed for a column, and the entry is written in the transaction that queues
the send. So a form posted twice, or a request a client repeats after a lost answer, lands
on the send it already made and queues nothing more; the same key with other words is a
mistake said as such. Every lookup and send happens under the event's row lock, so two
posts of one form arriving together make one send.

A reminder is the same mail to the same people whoever asks, so a second one within
REMIND_AGAIN_WITHIN asks first, saying when the last one went (`RemindedRecently`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.schedule import locked_event
from foundation.errors import N_, DomainError
from foundation.ratelimit import AttemptLimiter, TooManyBookings
from mail.models import Audience, MessageKind, OrganiserSend
from organisers import messages
from organisers.models import AuditEntry, Organiser
from registrations.messaging import checked_message

# How long a key is remembered: far longer than any client retries a request.
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY = 200  # characters of a key accepted; a UUID is 36
# A reminder within this of the last one asks first.
REMIND_AGAIN_WITHIN = timedelta(minutes=30)
SENT_ACTIONS = ("message.sent", "reminder.sent")
DETAIL = "send_key"  # the audit detail holding the key's hash


class SendKeyReused(DomainError):
    """The key already sent something else: a client's bug, never repeated blindly."""

    code = "idempotency_key_reused"
    status = 422

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Nyckeln har redan använts för ett annat utskick. Använd en ny nyckel "
                "för ett nytt meddelande."
            )
        )


class SendKeyInvalid(DomainError):
    code = "invalid"
    status = 422

    def __init__(self) -> None:
        super().__init__(
            N_("Idempotency-Key ska vara 1–200 synliga tecken."),
            fields={"Idempotency-Key": N_("Idempotency-Key ska vara 1–200 synliga tecken.")},
        )


def checked_key(raw: str | None) -> str:
    """A client's `Idempotency-Key` (None: it sent none, and gets a key of its own, so its
    request is never taken for another); SendKeyInvalid when empty, over MAX_KEY or not
    visible ASCII (RFC 9110 field values)."""
    if raw is None:
        return new_key()
    key = raw.strip().strip('"')  # the draft's examples quote it, as a structured string
    if not key or len(key) > MAX_KEY or not all("!" <= c <= "~" for c in key):
        raise SendKeyInvalid()
    return key


class SendKeyMissing(DomainError):
    """A workspace form without its one-time key (an old page): shown again to confirm."""

    code = "send_key_missing"
    status = 409

    def __init__(self) -> None:
        super().__init__(N_("Kontrollera utskicket en gång till innan du skickar det."))


class RemindedRecently(DomainError):
    """A reminder went `last.created_at`, within REMIND_AGAIN_WITHIN: ask before another."""

    code = "reminded_recently"
    status = 409

    def __init__(self, last: OrganiserSend) -> None:
        super().__init__(
            N_("Den senaste påminnelsen skickades %(sent_at)s. Vill du skicka en till?"),
            sent_at=last.created_at,
        )
        self.last = last


class TooManySends(DomainError):
    """Over a send limit (foundation.ratelimit.SEND_RATE_LIMIT_*); `Retry-After` says when
    to try again (RFC 9110 §10.2.3)."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("För många utskick på kort tid. Försök igen om %(seconds)s sekunder."),
            headers={"Retry-After": str(retry_after)},
            seconds=retry_after,
        )
        self.extensions = {"retry_after": retry_after}


async def within_limits(limiter: AttemptLimiter, sender: str, event_id: int) -> None:
    """Count one send by `sender` to event `event_id`'s people (the services' send_limiter);
    TooManySends when over a limit, before anything is looked up or queued."""
    try:
        await limiter.check_send(sender, event_id)
    except TooManyBookings as exc:
        raise TooManySends(exc.retry_after) from None


@dataclass(frozen=True)
class Sent:
    """A send, and whether this request only found it again (`repeated`: nothing queued)."""

    send: OrganiserSend
    repeated: bool


def new_key() -> str:
    """A fresh one-time key for a preview's form (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _digest(organiser: Organiser, key: str) -> str:
    return hashlib.sha256(f"{organiser.id}:{key[:MAX_KEY]}".encode()).hexdigest()


async def _sent_with(
    session: AsyncSession, organiser: Organiser, event_id: int, digest: str, now: datetime
) -> OrganiserSend | None:
    entries = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.organiser_id == organiser.id,
            AuditEntry.subject == f"event:{event_id}",
            AuditEntry.action.in_(SENT_ACTIONS),
            AuditEntry.created_at >= now - KEY_LIFETIME,
        )
    )
    for entry in entries:
        detail = entry.detail or {}
        if detail.get(DETAIL) == digest and isinstance(detail.get("send"), int):
            return await session.get(OrganiserSend, detail["send"])
    return None


async def message_once(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    *,
    subject: str,
    body: str,
    audience: Audience,
    key: str,
    now: datetime,
) -> Sent:
    """Send a message (organisers.messages.send_message) unless `key` already sent it; then
    that send, `repeated`. Raises SendKeyReused when the key sent other words or to others,
    and what send_message raises."""
    await locked_event(session, event_id)
    digest = _digest(organiser, key)
    earlier = await _sent_with(session, organiser, event_id, digest, now)
    if earlier is not None:
        subject, body = checked_message(subject, body)
        same = (earlier.kind, earlier.audience, earlier.subject, earlier.body)
        if same != (MessageKind.ORGANISER_MESSAGE, audience, subject, body):
            raise SendKeyReused()
        return Sent(earlier, repeated=True)
    send = await messages.send_message(
        session,
        organiser,
        event_id,
        subject=subject,
        body=body,
        audience=audience,
        now=now,
        send_key=digest,
    )
    return Sent(send, repeated=False)


async def remind_once(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    *,
    key: str,
    again: int | None,
    now: datetime,
) -> Sent:
    """Remind every confirmed attendee now (organisers.messages.remind_now) unless `key`
    already did; then that send, `repeated`. A reminder sent within REMIND_AGAIN_WITHIN
    raises RemindedRecently unless `again` is its id (the asker saw it and confirmed)."""
    await locked_event(session, event_id)
    digest = _digest(organiser, key)
    earlier = await _sent_with(session, organiser, event_id, digest, now)
    if earlier is not None:
        if earlier.kind != MessageKind.REMINDER:
            raise SendKeyReused()
        return Sent(earlier, repeated=True)
    last = await last_reminder(session, event_id, now)
    if last is not None and last.id != again:
        raise RemindedRecently(last)
    send = await messages.remind_now(session, organiser, event_id, now, send_key=digest)
    return Sent(send, repeated=False)


async def last_reminder(
    session: AsyncSession, event_id: int, now: datetime
) -> OrganiserSend | None:
    """The newest reminder an organiser sent for the event within REMIND_AGAIN_WITHIN."""
    found = await session.scalars(
        select(OrganiserSend)
        .where(
            OrganiserSend.event_id == event_id,
            OrganiserSend.kind == MessageKind.REMINDER,
            OrganiserSend.created_at >= now - REMIND_AGAIN_WITHIN,
        )
        .order_by(OrganiserSend.created_at.desc(), OrganiserSend.id.desc())
        .limit(1)
    )
    return found.first()
