"""Small factories: a published event, a series, an attendee."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from events.models import Event
from events.schedule import EventDraft, create_event, create_series
from foundation.services import Services
from registrations.attendee import Attendee, normalise_email
from registrations.booking import manage_token
from registrations.models import Registration

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)


async def make_event(services: Services, **overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "title": "Lunchkafé om förenkling",
        "starts_at": SOON,
        "ends_at": SOON + timedelta(hours=1),
        "capacity": 20,
        "join_url": "https://meet.example.se/secret-room",
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
                Registration.email_normalised == normalise_email(email),
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
