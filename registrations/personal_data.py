"""A person's own data, opened only by a link mailed to their address (GDPR art. 15 and 20).

Knowing an address opens nothing (DESIGN.md), so the page at /my-data answers the same for
every address and mails a link only to one that has bookings. The link's token is stored
nowhere: it is signed with SECRET_KEY (itsdangerous, its own salt, so no other signed value
of the site passes as one), dated, and names the address's personal feed by id together with
a keyed fingerprint of the feed's nonce. It therefore opens for LINK_VALID after it is mailed,
only this address's data, and never again once the data is erased (the feed goes with it) or
the feed's address is replaced. The address itself is not in the token, which is readable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.models import Event
from foundation.errors import N_, DomainError
from foundation.i18n import LANGUAGES
from foundation.ratelimit import TooManyBookings
from foundation.services import Services
from guide.proposal_models import GuideProposal
from guide.proposers import proposals_of
from mail import addresses
from mail.models import MessageKind, OutboxMessage, OutboxStatus
from mail.outbox import addressed_to, enqueue
from registrations.feeds import feed_for
from registrations.models import AttendeeFeed, Registration

LINK_VALID = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # a link dated later than now by more is refused
SALT = "lunchkafe.my-data-link"


class DataLinkInvalid(DomainError):
    """The token was never made by this site, was cut short, or its data is gone."""

    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Länken fungerar inte. Den kan vara ofullständig, eller så har uppgifterna "
                "redan raderats. Be om en ny länk."
            )
        )


class DataLinkExpired(DomainError):
    """The token is genuine but older than LINK_VALID."""

    code = "expired"
    status = 410

    def __init__(self) -> None:
        super().__init__(N_("Länken har gått ut: den gäller i en timme. Be om en ny länk."))


class TooManyDataLinks(DomainError):
    """Over the per-client or per-address limit for asking for links."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("För många förfrågningar på kort tid. Försök igen om %(seconds)s sekunder."),
            headers={"Retry-After": str(retry_after)},
            seconds=retry_after,
        )
        self.retry_after = retry_after


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def _fingerprint(feed: AttendeeFeed, secret_key: str) -> str:
    digest = hmac.new(
        secret_key.encode(), f"my-data|{feed.token_nonce}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:32]


def link_token(feed: AttendeeFeed, secret_key: str) -> str:
    """A new token for the address of `feed`, dated now (opens for LINK_VALID)."""
    return _serializer(secret_key).dumps([feed.id, _fingerprint(feed, secret_key)])


async def request_link(
    services: Services, client: str, email: str, *, language: str, now: datetime
) -> None:
    """Mail a link to the person's data to `email` if it has any booking or proposal to the
    guide; otherwise do nothing. Say nothing either way: the caller answers the same for
    every address.

    Every request counts against the client's and the address's budgets (known or not, so
    the limit tells nothing either). Raises TooManyDataLinks over a limit. The mail is in
    `language` (the page's), and carries a token made at delivery.
    """
    limiter = services.data_link_limiter
    address = addresses.canonical(email.strip())[:320]
    try:
        await limiter.check(client, address)
    except TooManyBookings as exc:
        raise TooManyDataLinks(exc.retry_after) from None
    await limiter.booked(address, True)
    if "@" not in address or not address.isprintable():  # no booking has such an address
        return
    async with services.transaction() as session:
        latest = (
            await session.scalars(
                select(Registration)
                .where(Registration.email_normalised == address)
                .order_by(Registration.created_at.desc(), Registration.id.desc())
                .limit(1)
            )
        ).first()
        # Someone who only shared an example with the guide has the same rights; their
        # link's row hangs on no booking, and erasure forgets its address by kind.
        proposed = [] if latest is not None else await proposals_of(session, address)
        if latest is None and not proposed:
            return
        feed = await feed_for(session, address, services.settings.secret_key)
        await enqueue(
            session,
            kind=MessageKind.MY_DATA_LINK,
            # The address as the person last booked (or proposed) with it; the row hangs on
            # that booking so that erasure and retention forget it with the rest.
            recipient=latest.email if latest is not None else proposed[-1].contact_email,
            dedupe_key=f"my-data:{feed.id}:{secrets.token_hex(8)}",
            registration_id=latest.id if latest is not None else None,
            payload={
                "feed_id": feed.id,
                "language": language if language in LANGUAGES else "sv",
            },
        )


async def open_link(
    session: AsyncSession, token: str, *, secret_key: str, now: datetime
) -> AttendeeFeed:
    """The personal feed (and so the address, `email_normalised`) a link opens.

    Raises DataLinkExpired for a genuine token older than LINK_VALID at `now`, and
    DataLinkInvalid for anything else: not ours, damaged, dated more than CLOCK_SKEW after
    `now`, or its data erased.
    """
    try:
        value, signed_at = _serializer(secret_key).loads(token[:200], return_timestamp=True)
        feed_id, fingerprint = int(value[0]), str(value[1])
    except (BadSignature, TypeError, ValueError, IndexError, KeyError, OverflowError, OSError):
        # OverflowError, OSError: a date no datetime holds (signed with our key, e.g. 2**62)
        raise DataLinkInvalid() from None
    signed_at = signed_at.replace(tzinfo=signed_at.tzinfo or UTC)
    if signed_at - now > CLOCK_SKEW:  # dated in the future: not a link this site made
        raise DataLinkInvalid()
    feed = await session.get(AttendeeFeed, feed_id) if 0 < feed_id < 2**31 else None
    if feed is None or not hmac.compare_digest(fingerprint, _fingerprint(feed, secret_key)):
        raise DataLinkInvalid()
    if now - signed_at > LINK_VALID:
        raise DataLinkExpired()
    return feed


# What each kind of mail to an attendee is, in the words of the page that lists them.
KIND_LABELS: dict[MessageKind, str] = {
    MessageKind.BOOKING_CONFIRMED: N_("Bokningsbekräftelse"),
    MessageKind.WAITLISTED: N_("Plats i kön"),
    MessageKind.PROMOTED: N_("Fått plats från kön"),
    MessageKind.REMINDER: N_("Påminnelse"),
    MessageKind.EVENT_CHANGED: N_("Ändrat evenemang"),
    MessageKind.EVENT_CANCELLED: N_("Inställt evenemang"),
    MessageKind.REGISTRATION_CANCELLED: N_("Avbokning"),
    MessageKind.ORGANISER_MESSAGE: N_("Meddelande från arrangören"),
    MessageKind.FOLLOW_UP: N_("Uppföljning"),
    MessageKind.FEED_REPLACED: N_("Ny kalenderadress"),
    MessageKind.MY_DATA_LINK: N_("Länk till dina uppgifter"),
    MessageKind.PROPOSAL_APPROVED: N_("Förslaget till guiden godkänt"),
    MessageKind.PROPOSAL_REJECTED: N_("Förslaget till guiden avböjt"),
}
# Mail to a person that may belong to no booking: answers to their proposals to the guide,
# and a data link to someone who only proposed (registrations.erasure forgets them by address).
UNBOOKED_MAIL = frozenset(
    {MessageKind.PROPOSAL_APPROVED, MessageKind.PROPOSAL_REJECTED, MessageKind.MY_DATA_LINK}
)

# Mail about the person, not about an event: a data link, a new calendar address. Its row
# hangs on their latest booking only so that erasure and retention forget it with the rest;
# shown and exported without that booking's event.
ABOUT_THE_PERSON = frozenset({MessageKind.MY_DATA_LINK, MessageKind.FEED_REPLACED})


@dataclass(frozen=True)
class SentMessage:
    """One mail to the person, as the outbox holds it: no body is stored (mail is composed
    at delivery), so its kind and the event it was about stand for its subject."""

    kind: MessageKind
    event: Event | None
    status: OutboxStatus
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class PersonalData:
    """Everything the service holds about one address: its bookings, each with its event,
    every message to it, and its proposals to the guide, oldest first."""

    email: str
    registrations: list[Registration]
    messages: list[SentMessage]
    proposals: list[GuideProposal]


async def personal_data(session: AsyncSession, email_normalised: str) -> PersonalData:
    """What the service holds about `email_normalised` (GDPR art. 15): reads only."""
    registrations = list(
        (
            await session.scalars(
                select(Registration)
                .options(selectinload(Registration.event))
                .where(Registration.email_normalised == email_normalised)
                .order_by(Registration.created_at, Registration.id)
            )
        ).all()
    )
    by_id = {r.id: r for r in registrations}
    rows = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.registration_id.in_(list(by_id)))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
        if by_id
        else None
    )
    # Mail that hangs on no booking (a proposer's decisions, a data link to a proposer)
    # is sent to the person too (GDPR art. 15: every message).
    unbooked = await addressed_to(session, email_normalised, UNBOOKED_MAIL)
    messages = [
        SentMessage(
            kind=row.kind,
            event=(
                by_id[row.registration_id].event
                if row.registration_id and row.kind not in ABOUT_THE_PERSON
                else None
            ),
            status=row.status,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
        for row in sorted(
            [*(rows.all() if rows is not None else []), *unbooked],
            key=lambda m: (m.created_at, m.id),
        )
    ]
    email = registrations[-1].email if registrations else email_normalised
    return PersonalData(
        email=email,
        registrations=registrations,
        messages=messages,
        proposals=await proposals_of(session, email_normalised),
    )


async def data_behind_link(
    session: AsyncSession, token: str, *, secret_key: str, now: datetime
) -> PersonalData:
    """What a data link opens: `personal_data` of its address. Raises as `open_link`."""
    feed = await open_link(session, token, secret_key=secret_key, now=now)
    return await personal_data(session, feed.email_normalised)


def _moment(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def as_json(data: PersonalData, *, now: datetime, site_name: str) -> dict[str, Any]:
    """The export (GDPR art. 20: structured, commonly used, machine-readable): every field
    the service keeps of each booking, and every message; times in RFC 3339, UTC."""
    return {
        "service": site_name,
        "exported_at": _moment(now),
        "email": data.email,
        "registrations": [
            {
                "event": {
                    "id": r.event_id,
                    "title": r.event.title,
                    "starts_at": _moment(r.event.starts_at),
                    "ends_at": _moment(r.event.ends_at),
                },
                "name": r.name,
                "email": r.email,
                "organisation": r.organisation,
                "municipality": r.municipality,
                "language": r.language,
                "status": r.status.value,
                "consent_at": _moment(r.consent_at),
                "booked_at": _moment(r.created_at),
                "confirmed_at": _moment(r.confirmed_at),
                "cancelled_at": _moment(r.cancelled_at),
                "attended": r.attended,
            }
            for r in data.registrations
        ],
        "messages": [
            {
                "kind": m.kind.value,
                "event_id": m.event.id if m.event else None,
                "status": m.status.value,
                "queued_at": _moment(m.created_at),
                "sent_at": _moment(m.sent_at),
            }
            for m in data.messages
        ],
        "proposals": [
            {
                "title": p.title,
                "organisation": p.organisation,
                "summary": p.summary,
                "body": p.body,
                "contact_name": p.contact_name,
                "contact_role": p.contact_role,
                "contact_email": p.contact_email,
                "contact_phone": p.contact_phone,
                "language": p.language,
                "status": p.status.value,
                "consented_at": _moment(p.consented_at),
                "sent_at": _moment(p.created_at),
                "decided_at": _moment(p.decided_at),
            }
            for p in data.proposals
        ],
    }
