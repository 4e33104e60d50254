"""A person is erased once: the same data link sent twice at once (a double click, a retried
request), or two admins erasing the same person at the same moment, erase in one of them;
the other finds nothing left. The link's second use opens nothing and logs nothing; every
admin's request leaves its entry (GDPR art. 5(2)), the second truthfully of zeros."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from organisers.models import AuditEntry, Organiser
from organisers.person_erasure import erase_by_link, erase_on_request
from registrations.erasure import Erasure
from registrations.feeds import feed_for
from registrations.personal_data import DataLinkInvalid, link_token
from tests.conftest import SECRET
from tests.factories import address, book, make_event
from tests.signing_in import add


async def test_a_link_sent_twice_at_once_erases_and_is_logged_once(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    async with services.transaction() as session:
        token = link_token(await feed_for(session, address(1), SECRET), SECRET)

    async def erase() -> str:
        try:
            async with services.transaction() as session:
                await erase_by_link(session, token, secret_key=SECRET, now=utcnow())
        except DataLinkInvalid:
            return "dead"
        return "erased"

    outcomes = await asyncio.gather(erase(), erase(), erase())
    assert sorted(outcomes) == ["dead", "dead", "erased"]
    async with services.reading() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert [(e.action, e.detail["bookings_cancelled"]) for e in entries] == [
        ("person.erased_by_link", 1)
    ]


async def test_two_admins_erasing_one_person_at_once_each_log_what_they_did(
    services: Services,
) -> None:
    """Both press "Ja, radera" at the same moment: one erases, the other waits for it, finds
    nothing left, and each request has its entry; only one has counts, and they add up to
    what there was, on either database."""
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    admins = [await add(services, f"admin{n}@myndigheten.example.se", role="admin") for n in (1, 2)]

    async def erase(admin: Organiser) -> Erasure:
        async with services.transaction() as session:
            return await erase_on_request(session, admin, address(1).upper(), now=utcnow())

    outcomes = await asyncio.gather(*(erase(admin) for admin in admins))
    assert sorted((e.registrations, e.cancelled, e.found) for e in outcomes) == [
        (0, 0, False),
        (1, 1, True),
    ]
    async with services.reading() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "person.erased"))
        ).all()
    assert sorted(e.organiser_id or 0 for e in entries) == sorted(a.id for a in admins)
    assert [e.detail for e in entries if any(e.detail.values())] == [
        {"registrations": 1, "bookings_cancelled": 1, "mails_skipped": 1, "proposals_erased": 0}
    ]


async def test_an_admin_erasure_that_finds_nothing_is_logged(services: Services) -> None:
    """A request about an address nobody booked with is handled too: its entry says 0."""
    admin = await add(services, "admin1@myndigheten.example.se", role="admin")
    async with services.transaction() as session:
        erasure = await erase_on_request(session, admin, "ingen@example.se", now=utcnow())
    assert not erasure.found
    async with services.reading() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "person.erased"))
        ).all()
    assert [(e.organiser_id, e.detail) for e in entries] == [
        (
            admin.id,
            {
                "registrations": 0,
                "bookings_cancelled": 0,
                "mails_skipped": 0,
                "proposals_erased": 0,
            },
        )
    ]
