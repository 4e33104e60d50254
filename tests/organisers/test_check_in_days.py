"""Check-in happens on the day (registrations.attendance.check_in_days), and every page that
shows attendees' personal data is logged as a view of them (attendees_workspace.logged_view)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage, OutboxStatus
from organisers.models import AuditEntry
from tests.factories import SOON, add_confirmed, book, csrf_in, make_event, registration_of
from tests.factories import address as address_of
from tests.signing_in import add, sign_in, text_of

ANNA = "anna@myndigheten.example.se"


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, ANNA, role="admin")
    assert (await sign_in(client, ANNA)).status_code == 303


async def tap(client: httpx.AsyncClient, event_id: int, registration_id: int) -> httpx.Response:
    page = await client.get(f"/organiser/events/{event_id}/check-in")
    return await client.post(
        f"/organiser/events/{event_id}/check-in/{registration_id}",
        data={"csrf_token": csrf_in(page.text), "mark": "present"},
        follow_redirects=True,
    )


async def present(services: Services, event_id: int) -> bool | None:
    return (await registration_of(services, event_id, address_of(1))).attended


async def test_check_in_nine_days_early_is_refused_saying_when_it_opens(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Check-in was accepted 9 days before the event though the README says on the day."""
    nine_days = SOON - timedelta(days=1)
    event = await make_event(services, starts_at=nine_days, ends_at=nine_days + timedelta(hours=1))
    await add_confirmed(services, event.id, range(1, 2))
    await signed_in(services, client)
    page = await client.get(f"/organiser/events/{event.id}/check-in")
    assert "Incheckningen öppnar" in text_of(page)
    registration = await registration_of(services, event.id, address_of(1))
    answer = await tap(client, event.id, registration.id)
    assert "Incheckningen öppnar" in text_of(answer)
    assert "samma dag som evenemanget" in text_of(answer)
    assert await present(services, event.id) is None


async def test_check_in_is_open_on_the_day_and_a_few_days_after(
    services: Services, client: httpx.AsyncClient
) -> None:
    now = utcnow()
    today = await make_event(services, starts_at=now, ends_at=now + timedelta(hours=1))
    long_ago = await make_event(
        services, starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=10, hours=-1)
    )
    for event in (today, long_ago):
        await add_confirmed(services, event.id, range(1, 2))
    await signed_in(services, client)
    page = await client.get(f"/organiser/events/{today.id}/check-in")
    assert "Incheckningen" not in text_of(page).replace("Incheckning:", "")
    registration = await registration_of(services, today.id, address_of(1))
    await tap(client, today.id, registration.id)
    assert await present(services, today.id) is True
    late = await registration_of(services, long_ago.id, address_of(1))
    answer = await tap(client, long_ago.id, late.id)
    assert "Incheckningen stängde" in text_of(answer)
    assert await present(services, long_ago.id) is None


async def viewed(services: Services, event_id: int) -> list[dict[str, object]]:
    async with services.transaction() as session:
        entries = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "attendees.viewed", AuditEntry.subject == f"event:{event_id}"
            )
        )
        return [dict(entry.detail) for entry in entries]


async def test_the_outbox_and_check_in_pages_are_logged_as_viewing_the_list(
    services: Services, client: httpx.AsyncClient
) -> None:
    """The outbox (every attendee's address) and the check-in page (names, organisations)
    were not logged, while the attendee page and the API were."""
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 3))
    await signed_in(services, client)
    assert (await client.get(f"/organiser/events/{event.id}/outbox")).status_code == 200
    assert (await client.get(f"/organiser/events/{event.id}/check-in")).status_code == 200
    assert (await client.get(f"/organiser/events/{event.id}/attendees")).status_code == 200
    logged = await viewed(services, event.id)
    assert [entry.get("page") for entry in logged] == ["outbox", "check_in", None]
    assert logged[1]["rows"] == 2


async def test_a_page_viewed_again_within_half_an_hour_is_logged_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Each tap on the check-in page reloads it: one entry for the sitting, not one a tap.
    Another page of the same people, or another organiser, is logged on its own."""
    now = utcnow()
    event = await make_event(services, starts_at=now, ends_at=now + timedelta(hours=1))
    await add_confirmed(services, event.id, range(1, 4))
    await signed_in(services, client)
    for n in (1, 2, 3):
        await tap(client, event.id, (await registration_of(services, event.id, address_of(n))).id)
    assert (await client.get(f"/organiser/events/{event.id}/attendees")).status_code == 200
    assert (await client.get(f"/organiser/events/{event.id}/attendees")).status_code == 200
    assert [entry.get("page") for entry in await viewed(services, event.id)] == ["check_in", None]

    await add(services, "bo@myndigheten.example.se", role="organiser")
    client.cookies.clear()
    assert (await sign_in(client, "bo@myndigheten.example.se")).status_code == 303
    assert (await client.get(f"/organiser/events/{event.id}/check-in")).status_code == 200
    assert [entry.get("page") for entry in await viewed(services, event.id)] == [
        "check_in",
        None,
        "check_in",
    ]


async def test_the_site_wide_outbox_logs_a_view_of_each_event_it_shows(
    services: Services, client: httpx.AsyncClient
) -> None:
    """/organiser/outbox lists failed mail with each recipient's address, across events."""
    shown, quiet = await make_event(services, title="Med fel"), await make_event(services)
    for n in (1, 2):
        await book(services, shown.id, n)  # each booking writes its confirmation's row
    await book(services, quiet.id, 1)
    async with services.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.event_id == shown.id)
            .values(status=OutboxStatus.FAILED, last_error="550 no such user")
        )
    await signed_in(services, client)
    page = await client.get("/organiser/outbox")
    assert "550 no such user" in text_of(page)
    assert [(e.get("page"), e["rows"]) for e in await viewed(services, shown.id)] == [("outbox", 2)]
    assert await viewed(services, quiet.id) == []
