"""Erasing a person (GDPR art. 17), by themselves from a mailed link or by an admin on their
request, each with its entry in the audit log.

The entry holds counts only: no name, no address, not even a hash of it (a hash of an
address is still personal data, found again by hashing the address). Who asked is the
admin, or for a mailed link "someone" (whoever held the link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.errors import N_, DomainError
from guide.proposers import proposals_of
from mail import addresses
from organisers import audit
from organisers.models import Organiser
from registrations.erasure import Erasure, bookings_cancelled, erase_person, lock_address
from registrations.models import AttendeeFeed, Registration
from registrations.personal_data import DataLinkInvalid, open_link

ERASED_BY_LINK = "person.erased_by_link"
ERASED_ON_REQUEST = "person.erased"


async def erase_by_link(
    session: AsyncSession, token: str, *, secret_key: str, now: datetime
) -> Erasure:
    """Erase the address a data link opens (registrations.personal_data.open_link, whose
    errors it raises): its future bookings cancelled first, then its data; logged."""
    feed = await open_link(session, token, secret_key=secret_key, now=now)
    address = feed.email_normalised
    # The address's erasure lock before any row lock: an admin erasing the same address
    # at once, holding that lock, may be about to delete this feed row.
    await lock_address(session, address)
    # The link dies first: the same link sent twice at once (a double click) then waits
    # for the first erasure's commit, finds its feed gone and erases, and logs, nothing.
    gone = await session.execute(
        delete(AttendeeFeed)
        .where(AttendeeFeed.id == feed.id)
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        raise DataLinkInvalid()
    session.expunge(feed)
    erasure = await erase_person(session, address, now=now)
    await _log(session, None, ERASED_BY_LINK, erasure, now)
    return erasure


MSG_NO_ADDRESS = N_("Skriv personens e-postadress.")


class NoAddress(DomainError):
    """The organiser's form held no address."""

    code = "invalid"
    status = 422

    def __init__(self) -> None:
        super().__init__(MSG_NO_ADDRESS, fields={"email": MSG_NO_ADDRESS})


@dataclass(frozen=True)
class ErasurePreview:
    """What erasing an address would do now: its `registrations`, the `upcoming` of them
    that would be cancelled (CANCEL sent, seat passed on), and its `proposals` to the guide.
    Writes nothing."""

    email: str
    registrations: int
    upcoming: int
    proposals: int = 0  # proposals to the guide naming them (guide.proposers)


def _address(email: str) -> str:
    address = addresses.canonical(email.strip())[:320]
    # A control character (NUL, which PostgreSQL refuses in text) is in no stored address.
    if "@" not in address or not address.isprintable():
        raise NoAddress()
    return address


async def preview(session: AsyncSession, email: str, *, now: datetime) -> ErasurePreview:
    """What `erase_on_request` would do to `email` now. Raises NoAddress."""
    address = _address(email)
    mine = Registration.email_normalised == address
    total = await session.scalar(select(func.count()).select_from(Registration).where(mine))
    return ErasurePreview(
        email=email.strip(),
        registrations=total or 0,
        upcoming=await bookings_cancelled(session, address, now=now),
        proposals=len(await proposals_of(session, address)),
    )


async def erase_on_request(
    session: AsyncSession, organiser: Organiser, email: str, *, now: datetime
) -> Erasure:
    """An admin erases the person at `email` on their request, as the person could from a
    mailed link. Every request is logged with its counts, zeros too (GDPR art. 5(2): a
    request handled leaves a trace). Two erasures of one address at once wait for each
    other (registrations.erasure.lock_address): the second finds the first's work done
    and its entry says 0. Raises NoAddress."""
    erasure = await erase_person(session, _address(email), now=now)
    await _log(session, organiser, ERASED_ON_REQUEST, erasure, now)
    return erasure


async def _log(
    session: AsyncSession, organiser: Organiser | None, action: str, erasure: Erasure, now: datetime
) -> None:
    await audit.record(
        session,
        organiser,
        action,
        now=now,
        registrations=erasure.registrations,
        bookings_cancelled=erasure.cancelled,
        mails_skipped=erasure.skipped,
        proposals_erased=erasure.proposals,
    )
