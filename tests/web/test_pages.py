"""Page behaviour that is about safety more than looks."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx

from foundation.services import Services
from foundation.timestamps import utcnow
from tests.factories import make_event


async def test_language_links_never_point_to_another_site(client: httpx.AsyncClient) -> None:
    response = await client.get("http://testserver//evil.example/")
    assert response.status_code == 404
    assert 'href="//evil' not in response.text
    assert 'href="/evil.example/?lang=en"' in response.text


async def test_event_page_says_why_booking_is_closed(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, registration_opens_at=utcnow() + timedelta(days=2))
    page = await client.get(f"/events/{event.id}")
    assert "Anmälan har inte öppnat än" in page.text
    assert 'action="http://testserver/events/' not in page.text  # no booking form yet
    english = await client.get(f"/events/{event.id}?lang=en")
    assert "Registration has not opened yet" in english.text


async def test_mailbox_is_not_served_by_address_alone(services: Services) -> None:
    # Only MAILBOX_PAGES=on serves it (tests/foundation/test_http_hardening.py), a loopback
    # client no more than any other.
    from lunchkafe.app import create_app

    local_site = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, base_url="http://127.0.0.1:8000")
    )
    app = create_app(local_site.settings, local_site)
    remote = httpx.ASGITransport(app=app, client=("203.0.113.5", 4000))
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=remote, base_url="http://127.0.0.1:8000") as c:
        assert (await c.get("/mailbox")).status_code == 404
    async with httpx.AsyncClient(transport=local, base_url="http://127.0.0.1:8000") as c:
        assert (await c.get("/mailbox")).status_code == 404
