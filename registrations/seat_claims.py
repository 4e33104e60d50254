"""The booking hot path: a new booking of one event as one small transaction on the driver.

When a newsletter announces a café, hundreds book within minutes, and the ORM's statement
machinery, aiosqlite's thread hand-offs per statement and the pool's pre-ping cost the web
process several times what the database does (issue 11). So the common case, an address
booking an event it holds nothing at, runs here on the connection SQLAlchemy's pool hands
out, with the same rules as `registrations.booking.book` (DESIGN.md, "Booking rules"):

- SQLite: on the one writer connection, every statement in one call inside an immediate
  transaction that the bookings arriving together share, each in a savepoint of its own
  (driver_work.SqliteWriter: group commit, on the event loop unless another process holds
  the lock); the event's bookability is checked by `events.opening.check_bookable` inside
  that transaction.
- PostgreSQL: no transaction block and no pre-ping (the hot engine has none). One statement
  reads the event and the address's registration and stores the personal feed when the
  event is open (committed on its own, before any seat is touched: a series booking also
  takes the feed first, so the two cannot deadlock). Then one statement claims a seat by a
  conditional update of the event's `confirmed_count` (`… WHERE confirmed_count < capacity`
  and the registration window), inserting the registration and its outbox row in the same
  statement; when no seat is left, a second one takes the next waitlist number instead.

Anything else returns None and the caller books through `book` in a unit of work: an address
already on the list (the resend rule), a rebooking after a cancellation, two bookings by one
address racing (the loser's insert hits the unique key), or a lost connection (booking is
idempotent per address, so the retry is safe).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from events.errors import EventNotFound
from events.models import Event, EventStatus
from events.opening import check_bookable
from foundation.ids import is_id
from mail.models import MessageKind
from registrations import dedupe_keys
from registrations.attendee import Attendee
from registrations.driver_work import (
    EVENT_SELECT,
    UNIQUE_VIOLATION,
    detached,
    fall_back_or_raise,
    loaded,
    on_driver,
    stamp,
)
from registrations.feeds import PURPOSE as FEED_PURPOSE
from registrations.models import Registration, RegistrationStatus
from registrations.tokens import derive_token, hash_token, new_nonce


@dataclass(frozen=True)
class Claimed:
    """A new booking, committed: `event` and `registration` are detached copies of the
    rows as the transaction left them; `position` is 1 for the first in line, None with a
    seat; `manage_token` is the booking's link token (mailed, never shown)."""

    event: Event
    registration: Registration
    position: int | None
    manage_token: str


@dataclass(frozen=True)
class _Booking:
    """What one booking writes, worked out before the transaction."""

    event_id: int
    attendee: Attendee
    email_normalised: str
    now: datetime
    tz_name: str
    nonce: str
    manage_token: str
    token_hash: str
    feed_nonce: str
    feed_hash: str


def _booking(
    event_id: int, attendee: Attendee, secret_key: str, now: datetime, tz_name: str
) -> _Booking:
    nonce, feed_nonce = new_nonce(), new_nonce()
    token = derive_token(secret_key, nonce)
    return _Booking(
        event_id=event_id,
        attendee=attendee,
        email_normalised=attendee.email_normalised,
        now=now,
        tz_name=tz_name,
        nonce=nonce,
        manage_token=token,
        token_hash=hash_token(token),
        feed_nonce=feed_nonce,
        feed_hash=hash_token(derive_token(secret_key, feed_nonce, FEED_PURPOSE)),
    )


async def claim_seat(
    engine: AsyncEngine,
    *,
    event_id: int,
    attendee: Attendee,
    secret_key: str,
    now: datetime,
    tz_name: str,
) -> Claimed | None:
    """Book `attendee` a seat at event `event_id`, or the next place in line, with its
    outbox row (the confirmation or the waitlist mail), committed; None when the case is
    not the hot one (see the module's docstring) and nothing was written but perhaps the
    personal feed. `now` is aware. Raises EventNotFound (no such event, or a draft) or
    BookingClosed, having booked nothing. The caller nudges delivery after it."""
    if not is_id(event_id):
        raise EventNotFound()
    booking = _booking(event_id, attendee, secret_key, now, tz_name)
    return await on_driver(
        engine,
        lambda conn, dialect: _seat_sqlite(conn, booking, dialect),
        lambda fairy, dialect: _book_postgres(fairy, booking, dialect),
        row=event_id,
    )


def _event(row: Sequence[Any], dialect: Dialect) -> Event:
    return detached(Event, row, dialect)


def _refuse_unless_open(event: Event | None, booking: _Booking) -> Event:
    """`book`'s refusals, in its order: EventNotFound for none or a draft, then
    BookingClosed with the reason."""
    if event is None or event.status == EventStatus.DRAFT:
        raise EventNotFound()
    check_bookable(event, booking.now, tz_name=booking.tz_name)
    return event


def _claimed(
    booking: _Booking,
    event: Event,
    registration_id: int,
    number: int | None,
    position: int | None,
) -> Claimed:
    attendee, now = booking.attendee, booking.now
    registration = loaded(
        Registration,
        dict(
            id=registration_id,
            event_id=event.id,
            name=attendee.name,
            email=attendee.email,
            email_normalised=booking.email_normalised,
            organisation=attendee.organisation,
            municipality=attendee.municipality,
            language=attendee.language,
            consent_at=now,
            status=RegistrationStatus.CONFIRMED
            if number is None
            else RegistrationStatus.WAITLISTED,
            waitlist_number=number,
            sequence_bump=0,
            token_nonce=booking.nonce,
            manage_token_hash=booking.token_hash,
            created_at=now,
            updated_at=now,
            confirmed_at=now if number is None else None,
        ),
    )
    return Claimed(event, registration, position, booking.manage_token)


def _payload(sequence: int, position: int | None) -> str:
    # registrations.booking._seat's payload: the invite's SEQUENCE (a new booking adds no
    # bump of its own) and the place in line.
    return json.dumps({"sequence": sequence, "position": position})


# -- SQLite: in the writer's shared transaction (driver_work.SqliteWriter) -----------------

_SQLITE_EVENT = f"SELECT {EVENT_SELECT} FROM events WHERE id = ?"  # noqa: S608
_SQLITE_HELD = "SELECT 1 FROM registrations WHERE event_id = ? AND email_normalised = ?"
_SQLITE_FEED = (
    "INSERT INTO attendee_feeds (email_normalised, token_nonce, token_hash, created_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (email_normalised) DO NOTHING"
)
_SQLITE_SEAT = "UPDATE events SET confirmed_count = confirmed_count + 1 WHERE id = ?"
_SQLITE_LINE = (
    "UPDATE events SET waitlist_counter = waitlist_counter + 1,"
    " waitlisted_count = waitlisted_count + 1 WHERE id = ?"
    " RETURNING waitlist_counter, waitlisted_count"
)
_SQLITE_REGISTRATION = (
    "INSERT INTO registrations (event_id, name, email, email_normalised, organisation,"
    " municipality, language, consent_at, status, waitlist_number, sequence_bump, token_nonce,"
    " manage_token_hash, created_at, updated_at, confirmed_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)"
)
_SQLITE_OUTBOX = (
    "INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id, registration_id,"
    " payload, status, attempts, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
)


def _seat_sqlite(conn: sqlite3.Connection, booking: _Booking, dialect: Dialect) -> Claimed | None:
    found = conn.execute(_SQLITE_EVENT, (booking.event_id,)).fetchone()
    event = _refuse_unless_open(_event(found, dialect) if found else None, booking)
    if conn.execute(_SQLITE_HELD, (event.id, booking.email_normalised)).fetchone():
        return None  # already on the list, or rebooking: `book`'s rules
    stamped = stamp(booking.now, dialect)
    conn.execute(
        _SQLITE_FEED, (booking.email_normalised, booking.feed_nonce, booking.feed_hash, stamped)
    )
    number = position = None
    if event.confirmed_count < event.capacity:
        conn.execute(_SQLITE_SEAT, (event.id,))
        event.confirmed_count += 1
    else:
        number, position = conn.execute(_SQLITE_LINE, (event.id,)).fetchone()
        event.waitlist_counter, event.waitlisted_count = number, position
    attendee = booking.attendee
    status = RegistrationStatus.CONFIRMED if number is None else RegistrationStatus.WAITLISTED
    cursor = conn.execute(
        _SQLITE_REGISTRATION,
        (
            event.id,
            attendee.name,
            attendee.email,
            booking.email_normalised,
            attendee.organisation,
            attendee.municipality,
            attendee.language,
            stamped,
            status.value,
            number,
            booking.nonce,
            booking.token_hash,
            stamped,
            stamped,
            stamped if number is None else None,
        ),
    )
    registration_id = cursor.lastrowid
    assert registration_id is not None
    kind = MessageKind.BOOKING_CONFIRMED if number is None else MessageKind.WAITLISTED
    conn.execute(
        _SQLITE_OUTBOX,
        (
            kind.value,
            attendee.email,
            dedupe_keys.booked(registration_id, 0),
            event.id,
            registration_id,
            _payload(event.sequence, position),
            stamped,
            stamped,
        ),
    )
    return _claimed(booking, event, registration_id, number, position)


# -- PostgreSQL: a conditional update instead of lock and count ----------------------------

# events.schedule.registration_window and events.opening.check_bookable in SQL: published,
# opened, and before the close (the start at the latest). $5 is now.
_PG_OPEN = (
    "status = 'published' AND (registration_opens_at IS NULL OR registration_opens_at <= $5)"
    " AND $5 < LEAST(COALESCE(registration_closes_at, starts_at), starts_at)"
)
_PG_LOOK = f"""
WITH event AS (SELECT {EVENT_SELECT} FROM events WHERE id = $1),
feed AS (
    INSERT INTO attendee_feeds (email_normalised, token_nonce, token_hash, created_at)
    SELECT $2, $3, $4, $5 FROM events WHERE id = $1 AND {_PG_OPEN}
    ON CONFLICT (email_normalised) DO NOTHING
)
SELECT event.*, EXISTS (
    SELECT 1 FROM registrations WHERE event_id = $1 AND email_normalised = $2
) FROM event
"""  # noqa: S608  (column names from the model, values as parameters)
# $1 event, $2 name, $3 email, $4 email_normalised, $5 now, $6 organisation,
# $7 municipality, $8 language, $9 token nonce, $10 token hash.
_PG_INSERTS = """
registration AS (
    INSERT INTO registrations (event_id, name, email, email_normalised, organisation,
        municipality, language, consent_at, status, waitlist_number, sequence_bump,
        token_nonce, manage_token_hash, created_at, updated_at, confirmed_at)
    SELECT $1, $2, $3, $4, $6, $7, $8, $5, {status}, {number}, 0, $9, $10, $5, $5, {confirmed}
    FROM claim
    RETURNING id
),
mail AS (
    INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id, registration_id,
        payload, status, attempts, next_attempt_at, created_at)
    SELECT {kind}, $3, 'booked:' || registration.id || ':0', $1, registration.id,
        json_build_object('sequence', claim.sequence, 'position', {position}),
        'pending', 0, $5, $5
    FROM registration, claim
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT registration.id, claim.* FROM registration, claim
"""


def _claim(update: str, **inserts: str) -> str:
    """A claim statement: `update` (of the event, RETURNING it, or nothing) and the inserts
    that follow from it; only constants of this module go into the text."""
    return f"WITH claim AS ({update} RETURNING {EVENT_SELECT})," + _PG_INSERTS.format(**inserts)


_PG_SEAT = _claim(
    "UPDATE events SET confirmed_count = confirmed_count + 1"  # noqa: S608
    f" WHERE id = $1 AND confirmed_count < capacity AND {_PG_OPEN}",
    status="'confirmed'",
    number="NULL::integer",
    confirmed="$5",
    kind="'booking_confirmed'",
    position="NULL::integer",
)
_PG_LINE = _claim(
    "UPDATE events SET waitlist_counter = waitlist_counter + 1,"  # noqa: S608
    " waitlisted_count = waitlisted_count + 1"
    f" WHERE id = $1 AND confirmed_count >= capacity AND {_PG_OPEN}",
    status="'waitlisted'",
    number="claim.waitlist_counter",
    confirmed="NULL::timestamp",
    kind="'waitlisted'",
    position="claim.waitlisted_count",
)
_FALL_BACK_ON = frozenset({UNIQUE_VIOLATION})
TRIES = 3  # seat, line, seat…: a seat freed or taken between the two statements


async def _book_postgres(
    fairy: PoolProxiedConnection, booking: _Booking, dialect: Dialect
) -> Claimed | None:
    conn = fairy.driver_connection
    assert conn is not None
    now = stamp(booking.now, dialect)
    attendee = booking.attendee
    try:
        found = await conn.fetchrow(
            _PG_LOOK,
            booking.event_id,
            booking.email_normalised,
            booking.feed_nonce,
            booking.feed_hash,
            now,
        )
        event = _refuse_unless_open(_event(found[:-1], dialect) if found else None, booking)
        if found[-1]:
            return None  # already on the list, or rebooking: `book`'s rules
        values = (
            booking.event_id,
            attendee.name,
            attendee.email,
            booking.email_normalised,
            now,
            attendee.organisation,
            attendee.municipality,
            attendee.language,
            booking.nonce,
            booking.token_hash,
        )
        for _ in range(TRIES):
            row = await conn.fetchrow(_PG_SEAT, *values)
            if row is not None:
                return _claimed(booking, _event(row[1:], dialect), row[0], None, None)
            row = await conn.fetchrow(_PG_LINE, *values)
            if row is not None:
                event = _event(row[1:], dialect)
                return _claimed(
                    booking, event, row[0], event.waitlist_counter, event.waitlisted_count
                )
        return None  # closed meanwhile, or seats moving fast: `book` decides
    except Exception as exc:
        # A unique violation: the same address booking at the same moment; `book` answers.
        fall_back_or_raise(exc, fairy, _FALL_BACK_ON)
        return None
