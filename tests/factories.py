"""Small factories: a published event, a series, an attendee; booking, cancelling, the outbox."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select, update

from events.models import Event
from events.schedule import EventDraft, create_event, create_series
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.addresses import canonical
from mail.models import OutboxMessage, OutboxStatus
from registrations import booking
from registrations.attendee import Attendee
from registrations.booking import manage_token
from registrations.models import Registration, RegistrationStatus
from registrations.tokens import derive_token, hash_token, new_nonce
from tests.conftest import SECRET

# Ten days ahead at 12.00 Stockholm time, not at the current hour: an event starting at the
# hour the suite runs crosses midnight late in the evening, and a same-day end then reads as
# before its start.
SOON = (
    (datetime.now(UTC) + timedelta(days=10))
    .astimezone(ZoneInfo("Europe/Stockholm"))
    .replace(hour=12, minute=0, second=0, microsecond=0)
    .astimezone(UTC)
)
JOIN_URL = "https://meet.example.se/secret-room"
_OUTBOX_ID = re.compile(r"outbox(\d+)@")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def make_event(services: Services, **overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "title": "Lunchkafé om förenkling",
        "starts_at": SOON,
        "ends_at": SOON + timedelta(hours=1),
        "capacity": 20,
        "join_url": JOIN_URL,
        "publish": True,
        # Tests build events that have begun or ended; only tests of that rule leave it out.
        "allow_past": True,
    }
    fields.update(overrides)
    async with services.transaction() as session:
        return await create_event(session, EventDraft(**fields), site_domain="test.example")


async def make_series(services: Services, slug: str = "cafeer", events: int = 3) -> list[Event]:
    async with services.transaction() as session:
        await create_series(session, slug=slug, title="Lunchkaféer")
    return [
        await make_event(
            services,
            title=f"Kafé {n}",
            series_slug=slug,
            starts_at=SOON + timedelta(days=7 * n),
            ends_at=SOON + timedelta(days=7 * n, hours=1),
        )
        for n in range(events)
    ]


def person(n: int = 1, **overrides: str) -> Attendee:
    fields = {
        "name": f"Person {n}",
        "email": f"person{n}@kommun.example.se",
        "organisation": "Exempelkommun",
    }
    fields.update(overrides)
    return Attendee(**fields)


async def registration_of(services: Services, event_id: int, email: str) -> Registration:
    """The registration an address holds for an event (AssertionError when there is none)."""
    async with services.transaction() as session:
        found = await session.scalar(
            select(Registration).where(
                Registration.event_id == event_id,
                Registration.email_normalised == canonical(email),
            )
        )
    assert found is not None, "no registration for this address"
    return found


async def mailed_manage_token(services: Services, event_id: int, email: str) -> str:
    """The manage token in the link that was mailed to `email` for `event_id`.

    The answer to a booking never carries it (registrations/receipt.py), so a test that acts
    as the owner of the address takes it from where the owner finds it: their mail, whose
    link is derived from the registration's nonce with the site's secret.
    """
    registration = await registration_of(services, event_id, email)
    return manage_token(registration, services.settings.secret_key)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(page: str) -> str:
    """The CSRF token a page's forms carry; AssertionError when it has none, or several."""
    tokens = set(CSRF_FIELD.findall(page))
    assert len(tokens) == 1, f"{len(tokens)} distinct CSRF tokens on the page"
    (token,) = tokens
    return str(token)


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token of the form on `path`, fetched by `client`, which keeps its cookie."""
    page = await client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_in(page.text)


async def book(
    services: Services, event_id: int, n: int, *, now: datetime | None = None
) -> booking.BookingResult:
    async with services.transaction() as session:
        return await booking.book(
            session, event_id=event_id, attendee=person(n), secret_key=SECRET, now=now
        )


async def cancel(services: Services, token: str | None) -> None:
    assert token is not None, "a new booking has a manage link"
    async with services.transaction() as session:
        await booking.cancel(session, token=token)


def address(n: int) -> str:
    return person(n).email


async def outbox(services: Services) -> list[OutboxMessage]:
    async with services.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


async def make_due_now(services: Services) -> None:
    """Let waiting retries go now, as if their back-off had passed."""
    async with services.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def add_confirmed(services: Services, event_id: int, numbers: range) -> None:
    """Many confirmed seats in one insert (setup for volume tests; booking rules not under test)."""
    now = utcnow()
    rows = []
    for n in numbers:
        nonce = new_nonce()
        rows.append(
            Registration(
                event_id=event_id,
                name=f"Person {n}",
                email=address(n),
                email_normalised=address(n),
                organisation="Exempelkommun",
                consent_at=now,
                status=RegistrationStatus.CONFIRMED,
                sequence_bump=0,
                token_nonce=nonce,
                manage_token_hash=hash_token(derive_token(SECRET, nonce)),
                created_at=now,
                updated_at=now,
                confirmed_at=now,
            )
        )
    async with services.transaction() as session:
        session.add_all(rows)
        # Kept in step as booking keeps it (registrations.waitlist.check_counters).
        await session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(confirmed_count=Event.confirmed_count + len(rows))
        )


def outbox_ids(messages: list[EmailMessage]) -> Counter[int]:
    """Which outbox row each received mail came from (compose puts it in the Message-ID)."""
    found: Counter[int] = Counter()
    for message in messages:
        match = _OUTBOX_ID.search(str(message["Message-ID"]))
        assert match, message["Message-ID"]
        found[int(match.group(1))] += 1
    return found


async def on_the_day(services: Services, event_id: int) -> None:
    """The day of the event arrives: it begins now and lasts its length, so check-in is
    open (registrations.attendance.check_in_days). Late in the evening it begins earlier
    instead, so that it still ends on today's date in Stockholm: an event running past
    midnight reads differently ('kl. 23.10 – tisdag 1 december 00.10') and pages change with
    the hour the suite runs."""
    async with services.transaction() as session:
        event = await session.get_one(Event, event_id)
        length = event.ends_at - event.starts_at
        now = utcnow()
        local = now.astimezone(STOCKHOLM)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        starts = min(now, midnight.astimezone(UTC) - length - timedelta(minutes=1))
        await session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(starts_at=starts, ends_at=starts + length)
        )
