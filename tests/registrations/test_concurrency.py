"""Capacity holds under real concurrency: 200 bookings at once through uvicorn."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from foundation.services import Services
from registrations.models import Registration, RegistrationStatus
from tests.factories import make_event


async def test_two_hundred_simultaneous_bookings_for_twenty_seats(
    services: Services, live_server: str
) -> None:
    event = await make_event(services, capacity=20)
    start = asyncio.Event()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)

    async def attempt(client: httpx.AsyncClient, n: int) -> httpx.Response:
        await start.wait()
        return await client.post(
            f"/api/events/{event.id}/registrations",
            json={"name": f"Deltagare {n}", "email": f"d{n}@kommun.example.se", "consent": True},
        )

    async with httpx.AsyncClient(base_url=live_server, limits=limits, timeout=60) as client:
        tasks = [asyncio.create_task(attempt(client, n)) for n in range(200)]
        await asyncio.sleep(0.05)
        start.set()
        responses = await asyncio.gather(*tasks)
        # A few retried duplicates must come back as the same registration, not new ones.
        repeats = await asyncio.gather(*(attempt(client, n) for n in range(0, 200, 40)))

    assert all(r.status_code == 202 for r in responses), {r.status_code for r in responses}
    assert all(r.status_code == 202 for r in repeats)

    async with services.transaction() as session:
        rows = list(
            (
                await session.scalars(select(Registration).where(Registration.event_id == event.id))
            ).all()
        )
    assert len(rows) == 200
    assert len({r.email_normalised for r in rows}) == 200
    assert sum(r.status == RegistrationStatus.CONFIRMED for r in rows) == 20
    waitlist = sorted(
        (r for r in rows if r.status == RegistrationStatus.WAITLISTED),
        key=lambda r: r.waitlist_number or 0,
    )
    assert [r.waitlist_number for r in waitlist] == list(range(1, 181))
    # FIFO: the waitlist order is the order the database saw the bookings arrive.
    assert [r.id for r in waitlist] == sorted(r.id for r in waitlist)
