"""The outbox dedupe keys of a registration's mails, one spelling for every path that
writes them: the ORM's (registrations.booking, registrations.waitlist) and the hot paths'
(registrations.seat_claims, registrations.seat_releases, whose PostgreSQL statements build
the same text in SQL from `promotion_stamp`). A key names the mail once: writing it again
is a no-op (mail.outbox, ON CONFLICT DO NOTHING), so the same change never mails twice.
"""

from __future__ import annotations

from datetime import datetime


def booked(registration_id: int, sequence_bump: int) -> str:
    """The booking's confirmation or waitlist mail; a rebooking bumps the sequence."""
    return f"booked:{registration_id}:{sequence_bump}"


def cancelled(registration_id: int, sequence_bump: int) -> str:
    """The cancellation's mail, at the bump the cancellation made."""
    return f"cancelled:{registration_id}:{sequence_bump}"


def promotion_stamp(now: datetime) -> str:
    """The moment of a promotion in its key: POSIX seconds with microseconds."""
    return f"{now.timestamp():.6f}"


def promoted(registration_id: int, now: datetime) -> str:
    """The invite of someone given a seat from the line at `now` (aware)."""
    return f"promoted:{registration_id}:{promotion_stamp(now)}"
