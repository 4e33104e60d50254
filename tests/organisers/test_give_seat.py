"""'Ge plats' on the attendee list only when a seat is free; otherwise the list says why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from events.models import Event
from foundation.services import Services
from lunchkafe.app import create_app
from tests.factories import book, make_event
from tests.signing_in import add, sign_in, text_of

FULL = "Fullt – höj antalet platser för att ge plats"


@asynccontextmanager
async def signed_in(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    await add(services, "anna@myndigheten.example.se")
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303
        yield client


async def test_a_full_event_offers_no_seat_and_says_why(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)  # in line
    async with signed_in(services) as client:
        page = await client.get(f"/organiser/events/{event.id}/attendees")
    assert page.status_code == 200
    assert "/promote" not in page.text  # no "Ge plats" button
    assert FULL in text_of(page)


async def test_a_free_seat_offers_it_to_anyone_in_line(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    async with services.transaction() as session:
        found = await session.get(Event, event.id)
        assert found is not None
        found.capacity = 2  # a seat freed without promoting, as a raise by hand would leave it
    async with signed_in(services) as client:
        page = await client.get(f"/organiser/events/{event.id}/attendees")
    assert "Ge plats" in text_of(page)
    assert "/promote" in page.text
    assert FULL not in text_of(page)
