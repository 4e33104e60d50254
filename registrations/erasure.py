"""Erasing a person on request (GDPR art. 17): their bookings first, then their data.

A booking still to come is cancelled as its manage link would cancel it
(`registrations.booking.cancel_by_id`): the person's calendar gets a CANCEL, and a freed seat
goes to the first in line, who is invited. That CANCEL is composed at delivery from the
registration, so the registration keeps the name and address its mail needs until the mail
has gone (or failed for good): it is taken off the address at once (its key becomes
`<id>@erasing.invalid`, so no page, export or new link finds it, and the address can book
afresh), and `finish_erasures`, run with every erasure and by the worker's minute sweep,
anonymises it as soon as nothing is waiting to be sent to it. Everything else is
anonymised at once; the personal feed is deleted, so its URL and any link to the data open
nothing; proposals to the guide go too (guide.proposers), with their mails' addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event, EventStatus
from guide.proposers import erase_proposer
from mail.outbox import forget_address, skip_waiting, unsettled_of
from registrations.booking import cancel_by_id
from registrations.models import AttendeeFeed, Registration, RegistrationStatus
from registrations.personal_data import UNBOOKED_MAIL
from registrations.retention import anonymise

ERASING = "@erasing.invalid"  # the key of a registration whose last mail is on its way


@dataclass(frozen=True)
class Erasure:
    """What erasing an address did, in counts only (for the audit log and the page):
    `registrations` taken off the address, `cancelled` of them still to come (a CANCEL each,
    seats passed on), `skipped` mails that were waiting and will not be sent, and
    `proposals` to the guide that named the person."""

    registrations: int
    cancelled: int
    skipped: int
    proposals: int = 0
    # Not in the audit entry: what else was found (a personal feed, mail outside a booking).
    other: int = 0

    @property
    def found(self) -> bool:
        """Whether there was anything to erase (an erasure that found nothing still has its
        audit entry, of zeros)."""
        return bool(self.registrations or self.proposals or self.other)


def cancelled_by_erasure(registration: Registration, event: Event, now: datetime) -> bool:
    """Whether erasing the person at `now` first cancels this booking (a CANCEL goes out and
    the seat passes on): it is not cancelled already and its event is published and not over.
    The one rule for the erasure itself, its preview and the page that asks to confirm."""
    return (
        registration.status != RegistrationStatus.CANCELLED
        and event.status == EventStatus.PUBLISHED
        and event.ends_at > now
    )


async def bookings_cancelled(session: AsyncSession, email_normalised: str, *, now: datetime) -> int:
    """How many bookings of `email_normalised` erasing it at `now` would cancel first, by
    `cancelled_by_erasure` as the erasure itself decides (for the page asking to confirm)."""
    rows = await session.execute(
        select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.email_normalised == email_normalised)
    )
    return sum(1 for registration, event in rows if cancelled_by_erasure(registration, event, now))


# The first key of the advisory lock that erasures of one address take on PostgreSQL (the
# second is the address's hash); no other advisory lock in the service uses this one.
ERASURE_LOCK = 1_702_001


async def lock_address(session: AsyncSession, email_normalised: str) -> None:
    """Erasures of one address wait for each other: the second then finds the first's work
    done and nothing left. SQLite's write lock, taken when the transaction begins, already
    orders them; on PostgreSQL a transaction-scoped advisory lock on the address does. A
    caller takes it before any row lock of its transaction (so it adds no lock order a
    booking or another erasure could cross): `erase_person` takes it first thing, and a
    caller that deletes or updates rows before calling it (organisers.person_erasure's
    erase_by_link) takes it before those. Taking it again in the same transaction is
    free (the lock is re-entrant within a session)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(
        select(func.pg_advisory_xact_lock(ERASURE_LOCK, func.hashtext(email_normalised)))
    )


async def erase_person(session: AsyncSession, email_normalised: str, *, now: datetime) -> Erasure:
    """Erase everything kept about `email_normalised` (mail.addresses.canonical): cancel its
    bookings of events not yet over, then anonymise its registrations and their messages
    and delete its personal feed. Safe to run twice, even at once: the second finds
    nothing (`Erasure.found` is False)."""
    await lock_address(session, email_normalised)
    registrations = list(
        (
            await session.scalars(
                select(Registration)
                .join(Event, Event.id == Registration.event_id)
                .where(Registration.email_normalised == email_normalised)
                # The order bookings lock events in (registrations.booking), so an erasure
                # and a series booking cannot deadlock.
                .order_by(Event.starts_at, Event.id)
            )
        ).all()
    )
    ids = [r.id for r in registrations]
    # Reminders and the like planned for later would hold the erasure up: they are moot.
    skipped = await skip_waiting(session, ids, "erased on the person's request")
    cancelled = 0
    for registration in registrations:
        event = await session.get(Event, registration.event_id)
        if event is not None and cancelled_by_erasure(registration, event, now):
            await cancel_by_id(session, event_id=event.id, registration_id=registration.id, now=now)
            cancelled += 1
    for registration in registrations:
        registration.email_normalised = f"{registration.id}{ERASING}"
        registration.organisation = ""
        registration.municipality = ""
        registration.updated_at = now
    feeds = await session.execute(
        delete(AttendeeFeed).where(AttendeeFeed.email_normalised == email_normalised)
    )
    # Proposals to the guide name their proposer, as do the mails that answered them.
    proposals = await erase_proposer(session, email_normalised)
    forgotten = await forget_address(session, email_normalised, UNBOOKED_MAIL)
    await session.flush()
    await finish_erasures(session, now=now)
    return Erasure(
        registrations=len(ids),
        cancelled=cancelled,
        skipped=skipped,
        proposals=proposals,
        other=int(getattr(feeds, "rowcount", 0) or 0) + forgotten,
    )


async def finish_erasures(session: AsyncSession, *, now: datetime) -> int:
    """Anonymise every registration erased on request whose mail has all gone out (or
    failed for good), with its messages and the feed its last mail made; returns how many."""
    waiting = list(
        (
            await session.scalars(
                select(Registration.id).where(Registration.email_normalised.endswith(ERASING))
            )
        ).all()
    )
    done = sorted(set(waiting) - await unsettled_of(session, waiting))
    if not done:
        return 0
    await anonymise(session, done, now=now)
    # Delivering the CANCEL made a feed for the registration's stand-in key.
    await session.execute(
        delete(AttendeeFeed).where(
            AttendeeFeed.email_normalised.in_([f"{i}{ERASING}" for i in done])
        )
    )
    return len(done)
