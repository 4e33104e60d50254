"""The cancellation hot path: a cancellation from a manage link, and the promotion of the
first in line into the seat it frees, as one small transaction on the driver (issue 11).

It writes exactly what `registrations.booking.cancel` writes (`cancel_by_id`, by the
person, and `registrations.waitlist._promote`): the registration cancelled (no place in
line, `cancelled_at`, one more `sequence_bump`), the event's counters, the cancellation's
outbox row (`cancelled:{id}:{bump}`, payload sequence and was_confirmed); and when a
confirmed seat was freed at a published event that has not begun, each of the first in line
for the free seats confirmed (`confirmed_at`), with the invite (`promoted:{id}:{now}`,
payload sequence). A registration already cancelled changes nothing.

- SQLite: on the one writer connection, every statement in one call inside an immediate
  transaction shared with the hot-path work that arrived with it, in a savepoint of its own
  (driver_work.SqliteWriter: on the event loop, or in one hand-off to aiosqlite's thread,
  never one hand-off per statement).
- PostgreSQL: one statement, committed on its own. It reads the registration and its event,
  then takes the event's row lock (as `lock_event` does) and goes on only if the event's
  seats and line are still as read: each booking, cancellation and promotion changes them in
  the same transaction as the registrations (waitlist.check_counters), and a place in line
  is always a new `waitlist_counter`, so equal counters mean the line read is the line under
  the lock. Every write hangs on that and on the registration's status being still as read;
  otherwise nothing is written, and the statement runs again in a transaction that takes
  the lock first (BEGIN, the lock, the statement, COMMIT: three round trips more, only when
  others cancel or book the same event at the same moment).

None (nothing written) sends the caller to `cancel` in a unit of work: a lost connection,
or a deadlock (none is known: the event's lock comes first, as everywhere). Cancelling is
idempotent, so that retry is safe.
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

from events.models import Event, EventStatus
from mail.models import MessageKind
from registrations import dedupe_keys, errors
from registrations.driver_work import (
    DEADLOCK,
    EVENT_SELECT,
    detached,
    fall_back_or_raise,
    on_driver,
    select_list,
    stamp,
)
from registrations.models import Registration, RegistrationStatus
from registrations.tokens import hash_token, looks_like_token


@dataclass(frozen=True)
class Released:
    """A cancellation, committed: `registration` is a detached copy of the row as the
    transaction left it; `promoted` the ids of those given a seat, first in line first;
    `changed` False when it was cancelled already (and nothing was written)."""

    registration: Registration
    promoted: tuple[int, ...]
    changed: bool


async def release_seat(engine: AsyncEngine, *, token: str, now: datetime) -> Released | None:
    """Cancel the registration of manage link `token` and promote into a freed seat, with the
    outbox rows, committed; None when the case is not the hot one and nothing was written.
    `now` is aware. Raises RegistrationNotFound (a malformed or unknown token), having
    written nothing. The caller nudges delivery after it."""
    if not looks_like_token(token):
        raise errors.RegistrationNotFound()
    token_hash = hash_token(token)
    return await on_driver(
        engine,
        lambda conn, dialect: _cancel_sqlite(conn, token_hash, now, dialect),
        lambda fairy, dialect: _release_postgres(fairy, token_hash, now, dialect),
    )


def _cancelled_payload(sequence: int, was_confirmed: bool) -> str:
    # cancel_by_id's payload for a cancellation by the person: the CANCEL's SEQUENCE, and
    # whether a seat (not a place in line) was given up.
    return json.dumps({"sequence": sequence, "was_confirmed": was_confirmed})


# -- SQLite: in the writer's shared transaction (driver_work.SqliteWriter) -----------------

_SQLITE_FIND = (
    f"SELECT {select_list(Registration, 'r')}, {select_list(Event, 'e')}"  # noqa: S608
    " FROM registrations r JOIN events e ON e.id = r.event_id WHERE r.manage_token_hash = ?"
)
_SQLITE_CANCEL = (
    "UPDATE registrations SET status = 'cancelled', waitlist_number = NULL, cancelled_at = ?,"
    " updated_at = ?, sequence_bump = ? WHERE id = ?"
)
_SQLITE_LINE = (
    "SELECT id, email, sequence_bump FROM registrations"
    " WHERE event_id = ? AND status = 'waitlisted' ORDER BY waitlist_number LIMIT ?"
)
_SQLITE_PROMOTE = (
    "UPDATE registrations SET status = 'confirmed', waitlist_number = NULL, confirmed_at = ?,"
    " updated_at = ? WHERE id = ?"
)
_SQLITE_COUNTS = "UPDATE events SET confirmed_count = ?, waitlisted_count = ? WHERE id = ?"
_SQLITE_OUTBOX = (
    "INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id, registration_id,"
    " payload, status, attempts, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
)
_REGISTRATION_WIDTH = len(Registration.__table__.columns)


def _cancel_sqlite(
    conn: sqlite3.Connection, token_hash: str, now: datetime, dialect: Dialect
) -> Released:
    found = conn.execute(_SQLITE_FIND, (token_hash,)).fetchone()
    if found is None:
        raise errors.RegistrationNotFound()
    registration = detached(Registration, found[:_REGISTRATION_WIDTH], dialect)
    if registration.status == RegistrationStatus.CANCELLED:
        return Released(registration, (), changed=False)
    event = detached(Event, found[_REGISTRATION_WIDTH:], dialect)
    stamped = stamp(now, dialect)
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    if was_confirmed:
        event.confirmed_count -= 1
    else:
        event.waitlisted_count -= 1
    registration.status = RegistrationStatus.CANCELLED
    registration.waitlist_number = None
    registration.cancelled_at = registration.updated_at = now
    registration.sequence_bump += 1
    conn.execute(_SQLITE_CANCEL, (stamped, stamped, registration.sequence_bump, registration.id))
    conn.execute(
        _SQLITE_OUTBOX,
        (
            MessageKind.REGISTRATION_CANCELLED.value,
            registration.email,
            dedupe_keys.cancelled(registration.id, registration.sequence_bump),
            event.id,
            registration.id,
            _cancelled_payload(registration.invite_sequence(event), was_confirmed),
            stamped,
            stamped,
        ),
    )
    promoted: list[int] = []
    # Once the event has begun a freed seat is of no use: nobody is promoted into it.
    if was_confirmed and event.status == EventStatus.PUBLISHED and now < event.starts_at:
        free = event.capacity - event.confirmed_count
        line = conn.execute(_SQLITE_LINE, (event.id, free)).fetchall() if free > 0 else []
        for promoted_id, email, bump in line:
            conn.execute(_SQLITE_PROMOTE, (stamped, stamped, promoted_id))
            event.confirmed_count += 1
            event.waitlisted_count -= 1
            conn.execute(
                _SQLITE_OUTBOX,
                (
                    MessageKind.PROMOTED.value,
                    email,
                    dedupe_keys.promoted(promoted_id, now),
                    event.id,
                    promoted_id,
                    json.dumps({"sequence": event.sequence + bump}),
                    stamped,
                    stamped,
                ),
            )
            promoted.append(promoted_id)
    conn.execute(_SQLITE_COUNTS, (event.confirmed_count, event.waitlisted_count, event.id))
    return Released(registration, tuple(promoted), changed=True)


# -- PostgreSQL: one statement, guarded by the event's row lock ----------------------------

# $1 the token's hash, $2 now, $3 now as in a promotion's dedupe key.
_PG_RELEASE = f"""
WITH target AS (
    SELECT {select_list(Registration)} FROM registrations WHERE manage_token_hash = $1
),
seen AS (SELECT {EVENT_SELECT} FROM events WHERE id = (SELECT event_id FROM target)),
locked AS (
    SELECT events.id FROM events, seen
    WHERE events.id = seen.id AND (SELECT status FROM target) <> 'cancelled'
        AND events.confirmed_count = seen.confirmed_count
        AND events.waitlisted_count = seen.waitlisted_count
        AND events.waitlist_counter = seen.waitlist_counter
        AND events.capacity = seen.capacity AND events.status = seen.status
        AND events.starts_at = seen.starts_at
    FOR UPDATE OF events
),
cancelled AS (
    UPDATE registrations r SET status = 'cancelled', waitlist_number = NULL,
        cancelled_at = $2, updated_at = $2, sequence_bump = r.sequence_bump + 1
    FROM target
    WHERE r.id = target.id AND r.status = target.status AND EXISTS (SELECT 1 FROM locked)
    RETURNING {select_list(Registration, "r")}
),
line AS (
    SELECT w.id, row_number() OVER (ORDER BY w.waitlist_number) AS place
    FROM registrations w, seen, target
    WHERE w.event_id = seen.id AND w.status = 'waitlisted' AND target.status = 'confirmed'
        AND seen.status = 'published' AND $2 < seen.starts_at
    ORDER BY w.waitlist_number
    LIMIT (SELECT GREATEST(capacity - confirmed_count + 1, 0) FROM seen)
),
promoted AS (
    UPDATE registrations r SET status = 'confirmed', waitlist_number = NULL,
        confirmed_at = $2, updated_at = $2
    FROM line
    WHERE r.id = line.id AND r.status = 'waitlisted' AND EXISTS (SELECT 1 FROM cancelled)
    RETURNING r.id, r.email, r.sequence_bump
),
event AS (
    UPDATE events e SET
        confirmed_count = e.confirmed_count - (target.status = 'confirmed')::integer
            + (SELECT count(*) FROM promoted),
        waitlisted_count = e.waitlisted_count - (target.status = 'waitlisted')::integer
            - (SELECT count(*) FROM promoted)
    FROM target
    WHERE e.id = target.event_id AND EXISTS (SELECT 1 FROM cancelled)
    RETURNING e.id, e.sequence
),
mail AS (
    INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id, registration_id,
        payload, status, attempts, next_attempt_at, created_at)
    SELECT 'registration_cancelled', cancelled.email,
        'cancelled:' || cancelled.id || ':' || cancelled.sequence_bump, event.id, cancelled.id,
        json_build_object('sequence', event.sequence + cancelled.sequence_bump,
            'was_confirmed', target.status = 'confirmed'),
        'pending', 0, $2, $2
    FROM cancelled, event, target
    UNION ALL
    SELECT 'promoted', promoted.email, 'promoted:' || promoted.id || ':' || $3, event.id,
        promoted.id, json_build_object('sequence', event.sequence + promoted.sequence_bump),
        'pending', 0, $2, $2
    FROM promoted, event
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT {select_list(Registration, "target")}, {select_list(Registration, "cancelled")},
    ARRAY(SELECT id FROM promoted JOIN line USING (id) ORDER BY line.place)
FROM target LEFT JOIN cancelled ON true
"""  # noqa: S608  (column names from the models, values as parameters)
# The event's row lock taken first, for the statement's second try: under it the statement
# reads the seats and the line as nobody can change them until the commit.
_PG_LOCK = (
    "SELECT 1 FROM events"
    " WHERE id = (SELECT event_id FROM registrations WHERE manage_token_hash = $1) FOR UPDATE"
)
_FALL_BACK_ON = frozenset({DEADLOCK})


async def _release_postgres(
    fairy: PoolProxiedConnection, token_hash: str, now: datetime, dialect: Dialect
) -> Released | None:
    conn = fairy.driver_connection
    assert conn is not None
    values = (token_hash, stamp(now, dialect), dedupe_keys.promotion_stamp(now))
    try:
        released = _released(await conn.fetchrow(_PG_RELEASE, *values), dialect)
        if released is None:
            # Another cancellation or booking of the event came between the read and the
            # lock (a rush on one event): again, holding the lock from the start.
            async with conn.transaction():
                await conn.execute(_PG_LOCK, token_hash)
                released = _released(await conn.fetchrow(_PG_RELEASE, *values), dialect)
        return released  # None: moved even so, nothing written; `cancel` decides
    except errors.RegistrationNotFound:
        raise
    except Exception as exc:
        fall_back_or_raise(exc, fairy, _FALL_BACK_ON)
        return None


def _released(row: Sequence[Any] | None, dialect: Dialect) -> Released | None:
    """What `_PG_RELEASE` answered: the registration as read, and as cancelled when it was;
    None when the seats had moved and nothing was written. Raises RegistrationNotFound."""
    if row is None:
        raise errors.RegistrationNotFound()
    width = _REGISTRATION_WIDTH
    found = detached(Registration, row[:width], dialect)
    if found.status == RegistrationStatus.CANCELLED:
        return Released(found, (), changed=False)
    if row[width] is None:
        return None
    registration = detached(Registration, row[width : 2 * width], dialect)
    return Released(registration, tuple(row[-1]), changed=True)
