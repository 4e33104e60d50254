"""A person is erased once: the same data link sent twice at once (a double click, a retried
request), or two admins erasing the same person at the same moment, erase in one of them;
the other finds nothing left, and the audit log holds one entry of what was done, not one
per request."""

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


async def test_two_admins_erasing_one_person_at_once_write_one_entry(
    services: Services,
) -> None:
    """Both press "Ja, radera" at the same moment: one erases and logs it, the other waits,
    finds nothing left and logs nothing, on either database."""
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
    assert [e.detail["bookings_cancelled"] for e in entries] == [1]
