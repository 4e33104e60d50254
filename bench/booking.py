"""Bookings per second and latency at N concurrent clients: Lunchkafé against the raw driver.

    .venv/bin/python bench/booking.py [--seconds 10] [--clients 64] [--backend both]
                                      [--redis-url redis://127.0.0.1:6379/14]

For each backend (SQLite, PostgreSQL) and each variant, on a fresh migrated database:

- **lunchkafe**: the real app (`lunchkafe.asgi:app`) under uvicorn in a subprocess, booking
  through POST /api/events/{id}/registrations (`registrations.booking.book`).
- **raw driver**: a bare Starlette endpoint (`baseline_app` below, same uvicorn options) doing
  the same booking transaction on the same schema with the driver alone: sqlite3 with one
  connection and BEGIN IMMEDIATE, run inline on the event loop (each transaction is short and
  never waits, so nothing else could run during it anyway); asyncpg with a pool and
  SELECT ... FOR UPDATE on the event. Same request, same validation (email-validator), same
  response JSON, same outbox row.

The load generator (bench/common.py) runs in its own process: `--clients` keep-alive
connections, each posting bookings with unique addresses, round-robin over the events.
Bookings/s counts 2xx responses completed in the measured window after `--warmup`. After each
run the database is checked: confirmed seats never above capacity, one outbox row per
registration, waitlist numbers unique.

With `--redis-url` (loopback only) the app runs as in production: each commit nudges the arq
worker on that Redis and the web process sends no mail, as the raw baseline sends none; the
queued job is removed afterwards (no worker runs). Without it the app runs in embedded mode and
also delivers every confirmation mail in the web process, work the baseline never does.

The goal from the issue (issue 11): lunchkafe bookings/s >= 0.7 x the raw driver's in the same
round, and at 64 clients also lunchkafe p99 <= 1.5 x the raw driver's p99 in the same round;
no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import math
import os
import platform
import re
import secrets
import shlex
import signal
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    LOOPBACK,
    LOOPBACK_NAMES,
    LoadResult,
    LoadSpec,
    clean_environ,
    cpu_seconds,
    loopback_database_url,
    on_alarm,
    ratio,
    run_load,
    serve,
    uvicorn_argv,
)
from tests.ports import free_port  # noqa: E402

SECRET = "bench-secret-key-not-for-production"  # noqa: S105  (loopback only)
BENCH_DATABASE = "lunchkafe_bench"
BIG_CAPACITY = 100_000  # the most events.schedule allows
SMALL_CAPACITY = 50  # one event fills at once, so the waitlist path is measured too
# The goal (issue 11), shared with bench/run.py's table: bookings/s at least GOAL_RATIO
# of the raw driver's and, at GOAL_P99_CLIENTS clients, p99 at most GOAL_P99_FACTOR times the
# raw driver's p99, both measured in the same run.
GOAL_RATIO = 0.7
GOAL_P99_FACTOR = 1.5
GOAL_P99_CLIENTS = 64
# Same ceiling as the app's PostgreSQL engine (pool_size 10 + max_overflow 10).
PG_POOL_MIN, PG_POOL_MAX = 10, 20
BODY_TEMPLATE = json.dumps(
    {
        "name": "Bänk Testsson {uid}",
        "email": "Bench.{uid}@example.org",
        "organisation": "Tillväxtverket",
        "municipality": "Umeå",
        "consent": True,
    },
    ensure_ascii=False,
)
MARKERS = ['"status":"confirmed"', '"status":"waitlisted"']


# =============================================================================================
# The baseline: the same booking with the raw driver behind a bare Starlette endpoint.
# uvicorn imports this module in the server subprocess: `bench.booking:baseline_app`.
# =============================================================================================


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    email: str
    email_normalised: str
    organisation: str
    municipality: str


@dataclass(frozen=True, slots=True)
class _Booked:
    status: str
    position: int | None
    token: str
    created: bool


@dataclass(frozen=True, slots=True)
class _Refused:
    http_status: int
    code: str
    message: str


def _problem(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


async def _parse_person(request: Request) -> _Person | Response:
    """The checks the app's API makes, done with the same libraries directly."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _problem(415, "unsupported_media_type", "Skicka JSON (application/json).")
    raw = await request.body()
    if len(raw) > 20_000:
        return _problem(413, "too_large", "För stor begäran.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "bad_json", "Kroppen är inte giltig JSON.")
    if not isinstance(body, dict):
        return _problem(400, "bad_json", "Kroppen måste vara ett JSON-objekt.")
    problems: dict[str, str] = {}
    fields: dict[str, str] = {}
    for name in ("name", "email", "organisation", "municipality"):
        value = body.get(name) or ""
        if not isinstance(value, str):
            problems[name] = "Måste vara en textsträng."
            value = ""
        fields[name] = " ".join(value.split())
    if not fields["name"] or len(fields["name"]) > 200:
        problems.setdefault("name", "Ange ditt namn.")
    try:
        email = validate_email(fields["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        problems.setdefault("email", "Ange en giltig e-postadress.")
        email = ""
    if body.get("consent") is not True:
        problems["consent"] = "Du behöver godkänna hanteringen av personuppgifter."
    if problems:
        return _problem(422, "invalid", "Formuläret innehåller fel.", fields=problems)
    return _Person(
        name=fields["name"],
        email=email,
        email_normalised=email.strip().lower(),
        organisation=fields["organisation"][:200],
        municipality=fields["municipality"][:200],
    )


def _token(secret: bytes, nonce: str, purpose: str = "manage") -> str:
    digest = hmac.new(secret, f"{purpose}|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _closed(
    status: str, opens: datetime | None, closes: datetime | None, starts: datetime, now: datetime
) -> _Refused | None:
    if status != "published":
        return _Refused(409, "not_open", "Evenemanget går inte att boka.")
    if opens is not None and now < opens:
        return _Refused(409, "not_open", "Bokningen har inte öppnat.")
    if now >= (closes or starts):
        return _Refused(409, "not_open", "Bokningen har stängt.")
    return None


class _Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def book(self, event_id: int, person: _Person, secret: bytes) -> _Booked | _Refused: ...


# registrations.feeds.feed_for: every booking makes sure the person's feed row exists. The
# baseline follows when the schema has the table (migration 0003 and later).
FEED_SQL = (
    "INSERT INTO attendee_feeds (email_normalised, token_nonce, token_hash, created_at)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT (email_normalised) DO NOTHING"
)
_SQLITE_FEED_SQL = re.sub(r"\$\d", "?", FEED_SQL)
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite


def _sqlite_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class _SqliteStore:
    """One connection, BEGIN IMMEDIATE, statements run inline on the event loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.feeds = False

    async def open(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        self.conn = conn
        found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attendee_feeds'"
        self.feeds = conn.execute(found).fetchone() is not None

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    async def book(self, event_id: int, person: _Person, secret: bytes) -> _Booked | _Refused:
        conn = self.conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcome = self._book(conn, event_id, person, secret)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return outcome

    def _book(
        self, conn: sqlite3.Connection, event_id: int, person: _Person, secret: bytes
    ) -> _Booked | _Refused:
        now = datetime.now(UTC).replace(tzinfo=None)
        stamp = now.strftime(_SQLITE_STAMP)
        event = conn.execute(
            "SELECT status, capacity, starts_at, registration_opens_at, registration_closes_at,"
            " sequence FROM events WHERE id = ?",
            (event_id,),
        ).fetchone()
        if event is None:
            return _Refused(404, "not_found", "Evenemanget finns inte.")
        status, capacity, starts, opens, closes, sequence = event
        existing = conn.execute(
            "SELECT id, status, waitlist_number, token_nonce FROM registrations"
            " WHERE event_id = ? AND email_normalised = ?",
            (event_id, person.email_normalised),
        ).fetchone()
        if existing is not None:
            # The benchmark never books an address twice; rebooking after a cancellation
            # is not mirrored here.
            if existing[1] == "cancelled":
                raise NotImplementedError("rebooking is not part of the benchmark")
            reg_id, reg_status, number, nonce = existing
            position = None
            if reg_status == "waitlisted":
                position = self._position(conn, event_id, number)
            conn.execute(
                "INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id,"
                " registration_id, payload, status, attempts, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
                " ON CONFLICT (dedupe_key) DO NOTHING",
                (
                    "booking_confirmed" if reg_status == "confirmed" else "waitlisted",
                    person.email,
                    f"resend:{reg_id}:{now:%Y%m%d%H}",
                    event_id,
                    reg_id,
                    json.dumps({"sequence": sequence, "position": position, "resend": True}),
                    stamp,
                    stamp,
                ),
            )
            return _Booked(reg_status, position, _token(secret, nonce), created=False)
        refused = _closed(
            status, _sqlite_time(opens), _sqlite_time(closes), _sqlite_time(starts) or now, now
        )
        if refused is not None:
            return refused
        (confirmed,) = conn.execute(
            "SELECT count(*) FROM registrations WHERE event_id = ? AND status = 'confirmed'",
            (event_id,),
        ).fetchone()
        seat_free = confirmed < capacity
        number = None
        if not seat_free:
            (number,) = conn.execute(
                "UPDATE events SET waitlist_counter = waitlist_counter + 1 WHERE id = ?"
                " RETURNING waitlist_counter",
                (event_id,),
            ).fetchone()
        nonce = secrets.token_hex(16)
        token = _token(secret, nonce)
        reg_status = "confirmed" if seat_free else "waitlisted"
        cursor = conn.execute(
            "INSERT INTO registrations (event_id, name, email, email_normalised, organisation,"
            " municipality, consent_at, status, waitlist_number, sequence_bump, token_nonce,"
            " manage_token_hash, created_at, updated_at, confirmed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            (
                event_id,
                person.name,
                person.email,
                person.email_normalised,
                person.organisation,
                person.municipality,
                stamp,
                reg_status,
                number,
                nonce,
                _token_hash(token),
                stamp,
                stamp,
                stamp if seat_free else None,
            ),
        )
        reg_id = cursor.lastrowid
        if self.feeds:  # the personal feed exists from the first booking (FEED_SQL)
            feed_nonce = secrets.token_hex(16)
            conn.execute(
                _SQLITE_FEED_SQL,
                (
                    person.email_normalised,
                    feed_nonce,
                    _token_hash(_token(secret, feed_nonce, "feed")),
                    stamp,
                ),
            )
        position = None if seat_free else self._position(conn, event_id, number)
        conn.execute(
            "INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id,"
            " registration_id, payload, status, attempts, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (
                "booking_confirmed" if seat_free else "waitlisted",
                person.email,
                f"booked:{reg_id}:0",
                event_id,
                reg_id,
                json.dumps({"sequence": sequence, "position": position}),
                stamp,
                stamp,
            ),
        )
        return _Booked(reg_status, position, token, created=True)

    @staticmethod
    def _position(conn: sqlite3.Connection, event_id: int, number: int) -> int:
        (ahead,) = conn.execute(
            "SELECT count(*) FROM registrations WHERE event_id = ? AND status = 'waitlisted'"
            " AND waitlist_number < ?",
            (event_id, number),
        ).fetchone()
        return int(ahead) + 1


class _PostgresStore:
    """An asyncpg pool; the event's row lock (FOR UPDATE) serialises bookings per event."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None
        self.feeds = False

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.pool = await asyncpg.create_pool(self.dsn, min_size=PG_POOL_MIN, max_size=PG_POOL_MAX)
        found = await self.pool.fetchval("SELECT to_regclass('attendee_feeds')")
        self.feeds = found is not None

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def book(self, event_id: int, person: _Person, secret: bytes) -> _Booked | _Refused:
        async with self.pool.acquire() as conn, conn.transaction():
            return await self._book(conn, event_id, person, secret)

    async def _book(
        self, conn: Any, event_id: int, person: _Person, secret: bytes
    ) -> _Booked | _Refused:
        now = datetime.now(UTC).replace(tzinfo=None)
        event = await conn.fetchrow(
            "SELECT status, capacity, starts_at, registration_opens_at, registration_closes_at,"
            " sequence FROM events WHERE id = $1 FOR UPDATE",
            event_id,
        )
        if event is None:
            return _Refused(404, "not_found", "Evenemanget finns inte.")
        status, capacity, starts, opens, closes, sequence = event
        existing = await conn.fetchrow(
            "SELECT id, status, waitlist_number, token_nonce FROM registrations"
            " WHERE event_id = $1 AND email_normalised = $2",
            event_id,
            person.email_normalised,
        )
        if existing is not None:
            if existing[1] == "cancelled":
                raise NotImplementedError("rebooking is not part of the benchmark")
            reg_id, reg_status, number, nonce = existing
            position = None
            if reg_status == "waitlisted":
                position = await self._position(conn, event_id, number)
            await conn.execute(
                "INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id,"
                " registration_id, payload, status, attempts, next_attempt_at, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)"
                " ON CONFLICT (dedupe_key) DO NOTHING",
                "booking_confirmed" if reg_status == "confirmed" else "waitlisted",
                person.email,
                f"resend:{reg_id}:{now:%Y%m%d%H}",
                event_id,
                reg_id,
                json.dumps({"sequence": sequence, "position": position, "resend": True}),
                now,
            )
            return _Booked(str(reg_status), position, _token(secret, str(nonce)), created=False)
        refused = _closed(status, opens, closes, starts, now)
        if refused is not None:
            return refused
        confirmed = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'",
            event_id,
        )
        seat_free = confirmed < capacity
        number = None
        if not seat_free:
            number = await conn.fetchval(
                "UPDATE events SET waitlist_counter = waitlist_counter + 1 WHERE id = $1"
                " RETURNING waitlist_counter",
                event_id,
            )
        nonce = secrets.token_hex(16)
        token = _token(secret, nonce)
        reg_status = "confirmed" if seat_free else "waitlisted"
        reg_id = await conn.fetchval(
            "INSERT INTO registrations (event_id, name, email, email_normalised, organisation,"
            " municipality, consent_at, status, waitlist_number, sequence_bump, token_nonce,"
            " manage_token_hash, created_at, updated_at, confirmed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $7, $7, $12)"
            " RETURNING id",
            event_id,
            person.name,
            person.email,
            person.email_normalised,
            person.organisation,
            person.municipality,
            now,
            reg_status,
            number,
            nonce,
            _token_hash(token),
            now if seat_free else None,
        )
        if self.feeds:
            feed_nonce = secrets.token_hex(16)
            await conn.execute(
                FEED_SQL,
                person.email_normalised,
                feed_nonce,
                _token_hash(_token(secret, feed_nonce, "feed")),
                now,
            )
        position = None if seat_free else await self._position(conn, event_id, number)
        await conn.execute(
            "INSERT INTO outbox_messages (kind, recipient, dedupe_key, event_id,"
            " registration_id, payload, status, attempts, next_attempt_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            "booking_confirmed" if seat_free else "waitlisted",
            person.email,
            f"booked:{reg_id}:0",
            event_id,
            reg_id,
            json.dumps({"sequence": sequence, "position": position}),
            now,
        )
        return _Booked(reg_status, position, token, created=True)

    @staticmethod
    async def _position(conn: Any, event_id: int, number: int) -> int:
        ahead = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'waitlisted'"
            " AND waitlist_number < $2",
            event_id,
            number,
        )
        return int(ahead) + 1


def baseline_app() -> Starlette:
    """The raw-driver server; configured by BENCH_DRIVER, BENCH_DSN and SECRET_KEY."""
    driver = os.environ["BENCH_DRIVER"]
    dsn = os.environ["BENCH_DSN"]
    store: _Store = _SqliteStore(dsn) if driver == "sqlite" else _PostgresStore(dsn)
    secret = os.environ["SECRET_KEY"].encode()

    async def create_registration(request: Request) -> Response:
        try:
            event_id = int(request.path_params["event_id"])
        except ValueError:
            return _problem(404, "not_found", "Evenemanget finns inte.")
        person = await _parse_person(request)
        if isinstance(person, Response):
            return person
        outcome = await store.book(event_id, person, secret)
        if isinstance(outcome, _Refused):
            return _problem(outcome.http_status, outcome.code, outcome.message)
        return JSONResponse(
            {
                "status": outcome.status,
                "waitlist_position": outcome.position,
                "manage_url": f"{request.base_url}manage/{outcome.token}",
            },
            status_code=201 if outcome.created else 200,
        )

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await store.close()

    return Starlette(
        routes=[
            Route("/api/events/{event_id}/registrations", create_registration, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


# =============================================================================================
# The run: fresh databases, servers in subprocesses, the load, the checks, the table.
# =============================================================================================


@dataclass(frozen=True)
class Target:
    backend: str  # "sqlite" | "postgresql"
    url: str  # SQLAlchemy URL of the fresh database
    var_dir: Path


@dataclass(frozen=True)
class EventCount:
    event_id: int
    capacity: int
    confirmed: int
    waitlisted: int


@dataclass(frozen=True)
class Check:
    events: list[EventCount]
    registrations: int
    outbox: int
    waitlist_numbers_unique: bool
    # Events whose seat counters differ from their registrations (the app keeps them in step,
    # registrations.waitlist.check_counters); None for the raw baseline, which does not.
    counters_drift: int | None = None

    @property
    def capacity_ok(self) -> bool:
        return all(e.confirmed <= e.capacity for e in self.events)

    @property
    def ok(self) -> bool:
        return (
            self.capacity_ok
            and self.outbox == self.registrations
            and (self.waitlist_numbers_unique)
            and not self.counters_drift
        )


@dataclass(frozen=True)
class Measured:
    backend: str
    variant: str
    round: int
    load: LoadResult
    check: Check
    cpu_ms: float  # server CPU (all threads) per successful booking, warm-up included


def _settings(url: str, var_dir: Path) -> Any:
    from foundation.settings import Settings

    return Settings.from_environ(
        {"DATABASE_URL": url, "SECRET_KEY": SECRET, "VAR_DIR": str(var_dir)}
    )


async def _prepare(target: Target, capacities: Sequence[int]) -> list[int]:
    """Migrate the fresh database and publish the events to book; returns their ids."""
    from events.schedule import EventDraft, create_event
    from foundation.database import create_engine, create_sessionmaker, unit_of_work
    from lunchkafe.migrate import upgrade

    engine = create_engine(_settings(target.url, target.var_dir))
    try:
        await upgrade(engine)
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        ids = []
        async with unit_of_work(create_sessionmaker(engine)) as session:
            for n, capacity in enumerate(capacities, 1):
                draft = EventDraft(
                    title=f"Lunchkafé {n}: bänkprov",
                    starts_at=starts + timedelta(hours=n),
                    ends_at=starts + timedelta(hours=n + 1),
                    capacity=capacity,
                    join_url="https://example.org/join",
                    publish=True,
                )
                event = await create_event(session, draft, site_domain="bench.invalid")
                ids.append(event.id)
        return ids
    finally:
        await engine.dispose()


async def _check(target: Target, *, counters: bool) -> Check:
    from sqlalchemy import text

    from foundation.database import create_engine

    engine = create_engine(_settings(target.url, target.var_dir))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT e.id, e.capacity,"
                    " (SELECT count(*) FROM registrations r"
                    "   WHERE r.event_id = e.id AND r.status = 'confirmed'),"
                    " (SELECT count(*) FROM registrations r"
                    "   WHERE r.event_id = e.id AND r.status = 'waitlisted')"
                    " FROM events e ORDER BY e.id"
                )
            )
            events = [EventCount(*row) for row in rows.all()]
            registrations = (await conn.execute(text("SELECT count(*) FROM registrations"))).one()
            outbox = (await conn.execute(text("SELECT count(*) FROM outbox_messages"))).one()
            duplicates = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT event_id, waitlist_number FROM registrations"
                        " WHERE waitlist_number IS NOT NULL GROUP BY event_id, waitlist_number"
                        " HAVING count(*) > 1) d"
                    )
                )
            ).one()
            drift = None
            if counters:
                drift = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM events e WHERE e.confirmed_count <>"
                            " (SELECT count(*) FROM registrations r WHERE r.event_id = e.id"
                            " AND r.status = 'confirmed') OR e.waitlisted_count <>"
                            " (SELECT count(*) FROM registrations r WHERE r.event_id = e.id"
                            " AND r.status = 'waitlisted')"
                        )
                    )
                ).scalar_one()
    finally:
        await engine.dispose()
    return Check(
        events=events,
        registrations=int(registrations[0]),
        outbox=int(outbox[0]),
        waitlist_numbers_unique=int(duplicates[0]) == 0,
        counters_drift=None if drift is None else int(drift),
    )


def _fresh_target(backend: str, variant: str, workdir: Path, admin_url: str) -> Target:
    var_dir = workdir / f"{backend}-{variant}-{len(list(workdir.iterdir()))}"
    var_dir.mkdir()
    if backend == "sqlite":
        return Target(backend, f"sqlite+aiosqlite:///{var_dir / 'bench.db'}", var_dir)
    from tests.databases import scratch_database

    return Target(backend, asyncio.run(scratch_database(admin_url, BENCH_DATABASE)), var_dir)


def _server(
    variant: str, target: Target, port: int, profile_to: Path | None, redis_url: str | None
) -> tuple[list[str], dict[str, str]]:
    if variant == "lunchkafe":
        argv = uvicorn_argv("lunchkafe.asgi:app", port)
        if profile_to is not None:
            argv[1:3] = ["-m", "cProfile", "-o", str(profile_to), "-m", "uvicorn"]
        env = clean_environ(
            DATABASE_URL=target.url,
            SECRET_KEY=SECRET,
            VAR_DIR=str(target.var_dir),
            BASE_URL=f"http://{LOOPBACK}:{port}",
            PORT=str(port),
            # The raw baseline has no rate limit; under the default one most of a run's
            # bookings from one loopback client would be 429s, and the ratio meaningless.
            BOOKING_RATE_LIMIT="off",
            BOOKING_RATE_LIMIT_PER_EMAIL="off",
        )
        if redis_url:
            env["REDIS_URL"] = redis_url
        return argv, env
    if target.backend == "sqlite":
        dsn = target.url.split(":///", 1)[1]
    else:
        dsn = "postgresql://" + target.url.split("://", 1)[1]
    env = clean_environ(BENCH_DRIVER=target.backend, BENCH_DSN=dsn, SECRET_KEY=SECRET)
    return uvicorn_argv("bench.booking:baseline_app", port, factory=True), env


def measure(
    backend: str, variant: str, round_: int, args: argparse.Namespace, workdir: Path
) -> Measured:
    target = _fresh_target(backend, variant, workdir, args.postgres_url)
    capacities = [BIG_CAPACITY] * args.events + [SMALL_CAPACITY]
    event_ids = asyncio.run(_prepare(target, capacities))
    port = free_port()
    profile_to = None
    if args.profile and variant == "lunchkafe":
        profile_to = workdir / f"{backend}-{variant}-{round_}.pstats"
    argv, env = _server(variant, target, port, profile_to, args.redis_url)
    spec = LoadSpec(
        port=port,
        paths=[f"/api/events/{i}/registrations" for i in event_ids],
        clients=args.clients,
        seconds=args.seconds,
        warmup=args.warmup,
        method="POST",
        body_template=BODY_TEMPLATE,
        headers={"Content-Type": "application/json"},
        markers=MARKERS,
    )
    try:
        with serve(argv, port=port, env=env) as server:
            cpu_before = cpu_seconds(server.pid)
            load = run_load(spec)
            cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        if args.redis_url and variant == "lunchkafe":
            asyncio.run(_clear_nudges(args.redis_url))
    check = asyncio.run(_check(target, counters=variant == "lunchkafe"))
    if profile_to is not None and profile_to.exists():
        _print_profile(profile_to, f"{backend} lunchkafe")
    return Measured(backend, variant, round_, load, check, cpu * 1000 / max(load.total_ok, 1))


async def _clear_nudges(redis_url: str) -> None:
    """Remove the deliver_mail job this run's nudges queued (no worker ran to take it).

    With no worker the delivery round never moves, so every nudge of the run folded into the
    one job of the current round (workers/nudges.py)."""
    from redis.asyncio import Redis

    from workers.nudges import ROUND_KEY, job_id

    client = Redis.from_url(redis_url)
    try:
        queued = job_id(int(await client.get(ROUND_KEY) or 0))
        await client.delete(f"arq:job:{queued}")
        await client.zrem("arq:queue", queued)
    finally:
        await client.aclose()


def _print_profile(path: Path, title: str) -> None:
    import pstats

    print(f"\n--- cProfile of the {title} server (main thread only) ---")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


def _postgres_reachable(admin_url: str) -> str | None:
    async def probe() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(admin_url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(asyncio.wait_for(probe(), 10))
    except Exception as exc:  # asyncpg raises several kinds when no server answers
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


# -- reporting -------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def goal_text(clients: int) -> str:
    """The issue's goal at `clients` concurrent clients, as the reports state it."""
    if clients == GOAL_P99_CLIENTS:
        return f"ratio >= {GOAL_RATIO} and p99 <= {GOAL_P99_FACTOR} x raw p99"
    return f"ratio >= {GOAL_RATIO}"


def goal_met(ratio_: float, p99_ms: float, raw_p99_ms: float, clients: int, errors: int) -> bool:
    """Whether one measurement meets the issue's goal (times in ms; NaN never meets it)."""
    if errors or not ratio_ >= GOAL_RATIO:
        return False
    return clients != GOAL_P99_CLIENTS or p99_ms <= GOAL_P99_FACTOR * raw_p99_ms


def _goal(ratio_: float, load: LoadResult, raw: LoadResult, clients: int) -> str:
    met = goal_met(ratio_, load.p99_ms, raw.p99_ms, clients, load.errors)
    return "met" if met else "NOT met"


def report(runs: Sequence[Measured], args: argparse.Namespace) -> None:
    raw_name = {"sqlite": "raw sqlite3", "postgresql": "raw asyncpg"}
    header = (
        f"{'backend':<11} {'variant':<12} {'round':>5} {'bookings/s':>10} {'p50 ms':>8}"
        f" {'p99 ms':>8} {'max ms':>8} {'errors':>6} {'cpu ms/b':>8} {'ratio':>6}  goal"
    )
    print()
    print(header)
    print("-" * len(header))
    by_key = {(m.backend, m.variant, m.round): m for m in runs}
    for m in runs:
        load = m.load
        name = m.variant if m.variant == "lunchkafe" else raw_name[m.backend]
        ratio_text, goal = "", ""
        raw = by_key.get((m.backend, "raw", m.round))
        if m.variant == "lunchkafe" and raw is not None:
            r = ratio(load.per_second, raw.load.per_second)
            ratio_text, goal = _fmt(r, 2), _goal(r, load, raw.load, args.clients)
        print(
            f"{m.backend:<11} {name:<12} {m.round:>5} {_fmt(load.per_second):>10}"
            f" {_fmt(load.p50_ms):>8} {_fmt(load.p99_ms):>8} {_fmt(load.max_ms):>8}"
            f" {load.errors:>6} {_fmt(m.cpu_ms, 2):>8} {ratio_text:>6}  {goal}"
        )
    if args.rounds > 1:
        print()
        for backend in dict.fromkeys(m.backend for m in runs):
            mine = [m for m in runs if m.backend == backend and m.variant == "lunchkafe"]
            raws = [m for m in runs if m.backend == backend and m.variant == "raw"]
            ratios = [
                ratio(m.load.per_second, by_key[(backend, "raw", m.round)].load.per_second)
                for m in mine
                if (backend, "raw", m.round) in by_key
            ]
            p99 = statistics.median(m.load.p99_ms for m in mine)
            raw_p99 = statistics.median(m.load.p99_ms for m in raws)
            errors = sum(m.load.errors for m in mine)
            met = goal_met(statistics.median(ratios), p99, raw_p99, args.clients, errors)
            print(
                f"{backend:<11} median of {len(mine)} rounds: lunchkafe"
                f" {_fmt(statistics.median(m.load.per_second for m in mine))}/s (p99"
                f" {_fmt(p99)} ms), {raw_name[backend]}"
                f" {_fmt(statistics.median(m.load.per_second for m in raws))}/s (p99"
                f" {_fmt(raw_p99)} ms), ratio"
                f" {_fmt(statistics.median(ratios), 2)}: goal {'met' if met else 'NOT met'}"
            )
    print(
        "\nratio = lunchkafe bookings/s / raw driver bookings/s in the same round; goal at"
        f" {args.clients} clients (issue 11): {goal_text(args.clients)} in the same round, with"
        " no errors."
        "\ncpu ms/b = the server process's CPU time (all threads) per successful booking;"
        " bookings/s x cpu ms/b well under 1,000 means the server waited rather than worked."
    )
    print("\nAfter each run, counted in the database:")
    for m in runs:
        c = m.check
        small = c.events[-1]
        busiest = max(e.confirmed + e.waitlisted for e in c.events)
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(m.load.statuses.items()))
        print(
            f"  {m.backend:<10} {m.variant:<9} {m.round}: confirmed <= capacity on"
            f" {sum(e.confirmed <= e.capacity for e in c.events)}/{len(c.events)} events"
            f" ({'ok' if c.capacity_ok else 'OVERBOOKED'}); small event"
            f" {small.confirmed}/{small.capacity} confirmed, {small.waitlisted} waitlisted;"
            f" {c.registrations:,} registrations (max {busiest:,} on one event),"
            f" {c.outbox:,} outbox rows; waitlist numbers"
            f" {'unique' if c.waitlist_numbers_unique else 'DUPLICATED'};"
            + (
                ""
                if c.counters_drift is None
                else f" seat counters {'= counts' if not c.counters_drift else 'DRIFTED'};"
            )
            + f" responses {statuses}, connection errors {m.load.connection_errors},"
            f" unfinished {m.load.unfinished}"
        )
    import sqlalchemy
    import uvicorn

    print(
        f"\nclients {args.clients}, window {args.seconds:g} s after {args.warmup:g} s warm-up,"
        f" {args.events} events of {BIG_CAPACITY:,} seats + 1 of {SMALL_CAPACITY};"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite"
        f" {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}, uvicorn"
        f" {uvicorn.__version__}"
    )
    jobs = (
        "commits nudge arq on Redis (production mode; no worker ran)"
        if args.redis_url
        else "no REDIS_URL, so the web process also delivers the outbox to the local mailbox"
        " (embedded mode)"
    )
    print(f"lunchkafe mail jobs: {jobs}")
    print(f"command: {shlex.join(sys.orig_argv)}")


# -- command line ----------------------------------------------------------------------------


def _loopback_redis(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_NAMES:
        raise argparse.ArgumentTypeError(f"only loopback Redis, not {host!r}")
    return url


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternate the variants this many times; medians"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--events", type=int, default=8, help="big events to spread bookings over (plus one small)"
    )
    parser.add_argument(
        "--postgres-url",
        type=loopback_database_url,
        default=loopback_database_url("postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an administrative database on loopback; lunchkafe_bench is dropped and created",
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the lunchkafe server under cProfile"
    )
    parser.add_argument(
        "--redis-url",
        type=_loopback_redis,
        default=None,
        help="run lunchkafe as in production: commits nudge arq on this Redis instead of"
        " delivering mail in the web process (the queued jobs are removed afterwards)",
    )
    parser.add_argument("--json", type=Path, help="also write every run here (bench.run)")
    args = parser.parse_args(argv)
    if min(args.seconds, args.clients, args.events, args.rounds) <= 0 or args.warmup < 0:
        parser.error("--seconds, --clients, --events and --rounds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends:
        problem = _postgres_reachable(args.postgres_url)
        if problem is not None:
            if args.backend == "postgresql":
                print(f"PostgreSQL is not reachable: {problem}", file=sys.stderr)
                return 2
            print(f"skipping PostgreSQL, not reachable: {problem}", file=sys.stderr)
            backends.remove("postgresql")
    # Bounded whatever happens: each run is its window plus generous set-up and drain time.
    budget = len(backends) * 2 * args.rounds * (args.warmup + args.seconds + 120) + 60
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(math.ceil(budget))
    runs: list[Measured] = []
    try:
        with tempfile.TemporaryDirectory(prefix="lunchkafe-bench-") as tmp:
            for backend in backends:
                # Alternating the variants round by round spreads any outside load on the
                # machine over both; the summary takes medians.
                for round_ in range(1, args.rounds + 1):
                    for variant in ("lunchkafe", "raw"):
                        print(f"{backend} / {variant} / round {round_} ...", file=sys.stderr)
                        runs.append(measure(backend, variant, round_, args, Path(tmp)))
    finally:
        signal.alarm(0)
    report(runs, args)
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(m) for m in runs]))
    return 0 if all(m.check.ok for m in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
