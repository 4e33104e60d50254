"""A person erasing themselves by their mailed link while an admin erases the same address:
whatever the order the two transactions reach the database in, neither fails (no deadlock
on PostgreSQL), the data goes once and the audit log says truthfully what each did.

On PostgreSQL the test holds the address's erasure lock itself, lets the admin queue for it
first and the link second, then lets go: the admin is granted the lock first, so before
the fix the link had already deleted its feed row (a row lock) when it queued, the admin
waited for that row while holding the lock the link waited for, and PostgreSQL broke the
deadlock by failing one of them. SQLite's write lock orders whole transactions, so there
the two simply run at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text

from foundation.services import Services
from foundation.timestamps import utcnow
from organisers.models import AuditEntry
from organisers.person_erasure import erase_by_link, erase_on_request
from registrations.erasure import ERASURE_LOCK
from registrations.feeds import feed_for
from registrations.models import Registration
from registrations.personal_data import DataLinkInvalid, link_token
from tests.conftest import SECRET
from tests.factories import address, book, make_event
from tests.signing_in import add

COUNTS = ("registrations", "bookings_cancelled", "mails_skipped", "proposals_erased")


async def _waiting_for_the_lock(services: Services, waiters: int) -> None:
    """Until `waiters` transactions of this database wait for an erasure lock (PostgreSQL)."""
    async with asyncio.timeout(15):
        while True:
            async with services.engine.connect() as connection:
                count = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                        " WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = :key"
                        " AND d.datname = current_database()"
                    ),
                    {"key": ERASURE_LOCK},
                )
            if count == waiters:
                return
            await asyncio.sleep(0.02)


async def test_an_erasure_by_link_and_by_an_admin_at_once(services: Services) -> None:
    event = await make_event(services, capacity=2)
    await book(services, event.id, 1)
    async with services.transaction() as session:
        token = link_token(await feed_for(session, address(1), SECRET), SECRET)
    admin = await add(services, "admin1@myndigheten.example.se", role="admin")

    async def by_link() -> str:
        try:
            async with services.transaction() as session:
                await erase_by_link(session, token, secret_key=SECRET, now=utcnow())
        except DataLinkInvalid:
            return "dead"  # the admin erased first: the link opens nothing any more
        return "erased"

    async def by_admin() -> str:
        async with services.transaction() as session:
            await erase_on_request(session, admin, address(1), now=utcnow())
        return "erased"

    if services.settings.is_sqlite:
        outcomes = await asyncio.wait_for(asyncio.gather(by_admin(), by_link()), 30)
    else:
        async with services.engine.connect() as holder:
            await holder.execute(
                select(func.pg_advisory_lock(ERASURE_LOCK, func.hashtext(address(1))))
            )
            admin_task = asyncio.create_task(by_admin())
            await _waiting_for_the_lock(services, 1)
            link_task = asyncio.create_task(by_link())
            await _waiting_for_the_lock(services, 2)
            await holder.execute(
                select(func.pg_advisory_unlock(ERASURE_LOCK, func.hashtext(address(1))))
            )
            outcomes = await asyncio.wait_for(asyncio.gather(admin_task, link_task), 30)
    assert outcomes[0] == "erased"
    assert outcomes[1] in ("erased", "dead")
    async with services.reading() as session:
        entries = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(["person.erased", "person.erased_by_link"]))
                .order_by(AuditEntry.id)
            )
        ).all()
        left = await session.scalar(
            select(func.count()).where(Registration.email_normalised == address(1))
        )
    assert left == 0
    # One entry per erasure that ran; only one of them found the booking.
    assert len(entries) == (2 if outcomes[1] == "erased" else 1)
    assert sum(e.detail["registrations"] for e in entries) == 1
    assert sum(e.detail["bookings_cancelled"] for e in entries) == 1
    assert len([e for e in entries if any(e.detail[c] for c in COUNTS)]) == 1
