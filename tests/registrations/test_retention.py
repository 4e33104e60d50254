"""Personal data is anonymised once the retention period after an event has passed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage
from registrations import booking
from registrations.models import Registration
from registrations.retention import anonymise_past_registrations
from tests.conftest import SECRET
from tests.factories import make_event, person


async def test_registrations_are_anonymised_after_retention(services: Services) -> None:
    event = await make_event(services, capacity=1)
    for n in (1, 2):
        async with services.transaction() as session:
            await booking.book(session, event_id=event.id, attendee=person(n), secret_key=SECRET)
    ended = event.ends_at
    async with services.transaction() as session:
        early = await anonymise_past_registrations(
            session, now=ended + timedelta(days=10), retention=timedelta(days=30)
        )
        late = await anonymise_past_registrations(
            session, now=ended + timedelta(days=31), retention=timedelta(days=30)
        )
        again = await anonymise_past_registrations(
            session, now=utcnow() + timedelta(days=400), retention=timedelta(days=30)
        )
    assert (early, late, again) == (0, 2, 0)
    async with services.transaction() as session:
        rows = (await session.scalars(select(Registration).order_by(Registration.id))).all()
        recipients = set((await session.scalars(select(OutboxMessage.recipient))).all())
    assert [(r.name, r.email, r.organisation) for r in rows] == [("(raderad)", "(raderad)", "")] * 2
    assert all("person" not in r.email_normalised for r in rows)
    # The seat counts stay for statistics.
    assert sorted(r.status.value for r in rows) == ["confirmed", "waitlisted"]
    assert recipients == {"(raderad)"}


async def test_personal_feeds_go_with_the_last_identifiable_booking(services: Services) -> None:
    from registrations.models import AttendeeFeed

    old = await make_event(services)
    async with services.transaction() as session:
        await booking.book(session, event_id=old.id, attendee=person(1), secret_key=SECRET)
        await booking.book(session, event_id=old.id, attendee=person(2), secret_key=SECRET)
    later = await make_event(
        services,
        starts_at=old.starts_at + timedelta(days=100),
        ends_at=old.ends_at + timedelta(days=100),
    )
    async with services.transaction() as session:
        await booking.book(session, event_id=later.id, attendee=person(2), secret_key=SECRET)
        await anonymise_past_registrations(
            session, now=old.ends_at + timedelta(days=31), retention=timedelta(days=30)
        )
    async with services.transaction() as session:
        kept = set((await session.scalars(select(AttendeeFeed.email_normalised))).all())
    # Person 1 has nothing left; person 2 still has a booking that needs the feed.
    assert kept == {"person2@kommun.example.se"}
