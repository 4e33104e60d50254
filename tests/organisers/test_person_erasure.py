"""An admin erases a person on their request from the workspace: an address, a page saying
what will happen, then the erasure, logged with counts only."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from events.models import Event, EventStatus
from foundation.services import Services
from foundation.timestamps import utcnow
from notices.delivery import deliver_due
from organisers.models import AuditEntry
from organisers.person_erasure import erase_on_request, preview
from registrations.models import Registration
from tests.factories import address, book, cancel, csrf_in, make_event
from tests.signing_in import add, sign_in, text_of
from workers.retention import purge_expired


async def test_an_admin_erases_a_person_after_seeing_what_will_happen(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    await add(services, "boss@myndigheten.example.se", role="admin")
    await sign_in(client, "boss@myndigheten.example.se")
    page = await client.get("/organiser/erase")
    token = csrf_in(page.text)

    empty = await client.post("/organiser/erase", data={"csrf_token": token, "email": ""})
    assert empty.status_code == 422
    assert "Skriv personens e-postadress." in empty.text
    spelled = address(1).upper()
    shown = await client.post("/organiser/erase", data={"csrf_token": token, "email": spelled})
    # Sentences read as sentences: a space between them, not "anmälan.1 av dem".
    assert "har 1 anmälan. 1 av dem har inte ägt rum" in text_of(shown)
    assert "anmälan.1" not in shown.text
    async with services.transaction() as session:  # nothing erased by the preview
        assert await session.scalar(select(Registration).where(Registration.name == "Person 1"))

    done = await client.post(
        "/organiser/erase", data={"csrf_token": token, "email": spelled, "confirm": "yes"}
    )
    assert done.status_code == 200
    assert "1 anmälan raderades" in text_of(done)
    async with services.transaction() as session:  # off the address at once
        held = (
            await session.scalars(
                select(Registration).where(Registration.email_normalised == address(1))
            )
        ).all()
    assert held == []
    await deliver_due(services)  # the CANCEL goes, made from the booking as it was
    await purge_expired(services, now=utcnow())  # then the worker's sweep erases the rest
    async with services.transaction() as session:
        people = {
            r.name: r.status.value for r in (await session.scalars(select(Registration))).all()
        }
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "person.erased"))
    assert "Person 1" not in people
    assert people["Person 2"] == "confirmed"
    assert entry is not None
    assert entry.detail == {
        "registrations": 1,
        "bookings_cancelled": 1,
        "mails_skipped": 1,
        "proposals_erased": 0,
    }
    log = await client.get("/organiser/audit")
    assert "raderade en persons uppgifter på deras begäran" in text_of(log)
    assert "person1" not in log.text.lower()


async def test_the_preview_counts_the_bookings_the_erasure_cancels(services: Services) -> None:
    """One rule (registrations.erasure.cancelled_by_erasure) for the page asking to confirm
    and the erasure: a booking to come, seated or in line, is cancelled; one already
    cancelled, one whose event is over, and one whose event was called off are not."""
    to_come = await make_event(services, capacity=1)
    await book(services, to_come.id, 2)
    await book(services, to_come.id, 1)  # in line
    seated = await make_event(services, title="Ett till kafé")
    await book(services, seated.id, 1)
    over = await make_event(
        services, starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=2)
    )
    await book(services, over.id, 1, now=utcnow() - timedelta(days=1))
    gone_back = await make_event(services, title="Ångrat")
    cancel_token = (await book(services, gone_back.id, 1)).manage_token
    await cancel(services, cancel_token)
    called_off = await make_event(services, title="Inställt")
    await book(services, called_off.id, 1)
    async with services.transaction() as session:
        await session.execute(
            update(Event).where(Event.id == called_off.id).values(status=EventStatus.CANCELLED)
        )
    boss = await add(services, "boss@myndigheten.example.se", role="admin")

    now = utcnow()
    async with services.transaction() as session:
        shown = await preview(session, address(1), now=now)
    async with services.transaction() as session:
        done = await erase_on_request(session, boss, address(1), now=now)
    assert (shown.registrations, shown.upcoming) == (5, 2)
    assert (done.registrations, done.cancelled) == (shown.registrations, shown.upcoming)
