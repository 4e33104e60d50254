"""A data link erases once: the same link sent twice at once (a double click, a retried
request) erases the person in one of them; the other finds the link dead, and the audit log
holds one entry of what was done, not one per request."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from organisers.models import AuditEntry
from organisers.person_erasure import erase_by_link
from registrations.feeds import feed_for
from registrations.personal_data import DataLinkInvalid, link_token
from tests.conftest import SECRET
from tests.factories import address, book, make_event


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
