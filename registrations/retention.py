"""Erasing personal data once it is no longer needed, as the privacy notice promises."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event
from mail.outbox import forget_recipients
from registrations.models import AttendeeFeed, Registration

ERASED = "(raderad)"


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
    await session.execute(
        update(Registration)
        .where(Registration.id.in_(ids))
        .values(
            name=ERASED,
            email=ERASED,
            # Unique per event, so each row keeps a distinct placeholder.
            email_normalised=Registration.id.cast(Registration.email_normalised.type).concat(
                "@erased.invalid"
            ),
            organisation="",
            municipality="",
            updated_at=now,
        )
    )
    await forget_recipients(session, ids)
    # A personal feed names its owner's address; it goes once no booking needs it.
    still_booked = select(Registration.email_normalised).where(Registration.email != ERASED)
    await session.execute(
        delete(AttendeeFeed).where(AttendeeFeed.email_normalised.not_in(still_booked))
    )
    return len(ids)
