"""Erasing personal data once it is no longer needed, as the privacy notice promises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from guide.proposers import proposer_addresses
from mail.outbox import forget_recipients
from registrations.models import AttendeeFeed, Registration
from registrations.tokens import hash_token, new_nonce

ERASED = "(raderad)"


async def anonymise(session: AsyncSession, ids: Sequence[int], *, now: datetime) -> None:
    """Blank the name, address, organisation and municipality of registrations `ids`, and
    the addresses of their messages. Counts by status survive for statistics; nothing points
    to a person any more, and their manage links open nothing (a new, unknown hash)."""
    if not ids:
        return
    for start in range(0, len(ids), 500):  # well under SQLite's variable limit
        chunk = list(ids[start : start + 500])
        await session.execute(
            update(Registration)
            .where(Registration.id.in_(chunk))
            .values(
                name=ERASED,
                email=ERASED,
                # Unique per event, so each row keeps a distinct placeholder.
                email_normalised=Registration.id.cast(Registration.email_normalised.type).concat(
                    "@erased.invalid"
                ),
                organisation="",
                municipality="",
                token_nonce=new_nonce(),
                manage_token_hash=Registration.id.cast(Registration.manage_token_hash.type).concat(
                    hash_token(new_nonce())[:40]
                ),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        await forget_recipients(session, chunk)


async def anonymise_past_registrations(
    session: AsyncSession, *, now: datetime, retention: timedelta
) -> int:
    """Blank the name, address and organisation on registrations for events long over.

    Counts by status survive for statistics; nothing points to a person any more.
    """
    ended = select(Event.id).where(Event.ends_at < now - retention)
    ids = list(
        (
            await session.scalars(
                select(Registration.id).where(
                    Registration.event_id.in_(ended), Registration.email != ERASED
                )
            )
        ).all()
    )
    if not ids:
        return 0
    await anonymise(session, ids, now=now)
    # A personal feed names its owner's address; it goes once no booking needs it, unless
    # the address proposed an example to the guide: its mailed data link names that feed.
    still_booked = select(Registration.email_normalised).where(Registration.email != ERASED)
    await session.execute(
        delete(AttendeeFeed).where(
            AttendeeFeed.email_normalised.not_in(still_booked),
            AttendeeFeed.email_normalised.not_in(sorted(await proposer_addresses(session))),
        )
    )
    return len(ids)
