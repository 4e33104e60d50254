"""Cancellations with promotion per second, in process: the hot path against `cancel`.

    python -m bench.cancellation [--backend both] [--events 20] [--capacity 50] [--clients 16]

For each backend (a temporary SQLite file; a PostgreSQL database created and dropped for the
run), migrated once: per round and variant, `--events` published events of `--capacity`
seats, each full and with as many in line, inserted in bulk. Then `--clients` tasks cancel
every confirmed seat, each freeing a seat that the first in line takes, events taken in turn:

- **hot**: `registrations.booking.cancel_now`, the way the pages and the API cancel (the hot
  path, registrations.seat_releases; `cancel` for any case it leaves);
- **orm**: `registrations.booking.cancel` in a unit of work of its own, as before.

Both run in this one process on the same machine, round by round alternately (so outside
load falls on both); cancellations/s is the cancellations over the wall time of the variant's
run, CPU ms the process's CPU time (all threads) per cancellation. After each run the
database is checked: every event full again from its line, the line empty, the counters equal
to the counts, one cancellation mail and one invite per cancellation. No mail is delivered
(no worker; the outbox rows stay pending). Loopback only; everything it creates is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.common import loopback_database_url, ratio, registration_row  # noqa: E402

SECRET = "bench-secret-key-not-for-production"  # noqa: S105  (a throw-away database)
VARIANTS = ("hot", "orm")


@dataclass(frozen=True)
class Run:
    backend: str
    variant: str
    round: int
    cancellations: int
    seconds: float
    cpu_seconds: float
    problems: list[str]

    @property
    def per_second(self) -> float:
        return self.cancellations / self.seconds if self.seconds else math.nan

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.cancellations if self.cancellations else math.nan


@asynccontextmanager
async def temporary_database(backend: str, workdir: Path, admin_url: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'cancellation.db'}"
        return
    from tests.databases import drop_database, scratch_database

    name = f"lunchkafe_bench_cancel_{os.getpid()}"
    url = await scratch_database(admin_url, name)
    try:
        yield url
    finally:
        await drop_database(admin_url, name)


async def _full_events(services: Any, events: int, capacity: int, tag: str) -> list[list[str]]:
    """`events` published events of `capacity` seats, each full and with `capacity` in line,
    their counters in step; returns each event's manage tokens of the confirmed."""
    from sqlalchemy import insert, update

    from events.models import Event
    from events.schedule import EventDraft, create_event
    from foundation.timestamps import utcnow
    from registrations.models import Registration

    starts = utcnow().replace(microsecond=0) + timedelta(days=30)
    booked_at = utcnow() - timedelta(days=1)
    tokens: list[list[str]] = []
    async with services.transaction() as session:
        for e in range(events):
            event = await create_event(
                session,
                EventDraft(
                    title=f"Lunchkafé {tag} {e}",
                    starts_at=starts + timedelta(hours=e),
                    ends_at=starts + timedelta(hours=e + 1),
                    capacity=capacity,
                    join_url="https://meet.example.se/room",
                    publish=True,
                ),
                site_domain="bench.invalid",
            )
            rows, mine = [], []
            for n in range(2 * capacity):
                seated = n < capacity
                row, token = registration_row(
                    event_id=event.id,
                    n=n,
                    email=f"p{n}.{e}.{tag}@kommun.example.se",
                    booked_at=booked_at,
                    secret=SECRET,
                    waitlist_number=None if seated else n - capacity + 1,
                )
                rows.append(row)
                if seated:
                    mine.append(token)
            await session.execute(insert(Registration), rows)
            await session.execute(
                update(Event)
                .where(Event.id == event.id)
                .values(
                    confirmed_count=capacity,
                    waitlisted_count=capacity,
                    waitlist_counter=capacity,
                )
            )
            tokens.append(mine)
    return tokens


async def _check(services: Any, capacity: int, cancellations: int, since: int) -> list[str]:
    """What is wrong after a run: [] when every event is full from its line, the counters
    equal the counts, and each cancellation wrote its mail and its invite."""
    from sqlalchemy import func, select

    from events.models import Event
    from mail.models import MessageKind, OutboxMessage
    from registrations.waitlist import check_counters

    problems = []
    async with services.transaction() as session:
        if drift := await check_counters(session):
            problems.append(f"counters drifted at {len(drift)} events")
        rows = await session.execute(
            select(Event.confirmed_count, Event.waitlisted_count).where(Event.id > since)
        )
        seats = rows.all()
        if any(row != (capacity, 0) for row in seats):
            problems.append("an event not full from its line")
        for kind in (MessageKind.REGISTRATION_CANCELLED, MessageKind.PROMOTED):
            written = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == kind, OutboxMessage.event_id > since)
            )
            if written != cancellations:
                problems.append(f"{written} {kind.value} rows for {cancellations} cancellations")
    return problems


async def _run(
    services: Any, backend: str, variant: str, round_: int, args: argparse.Namespace
) -> Run:
    from sqlalchemy import func, select

    from events.models import Event
    from registrations import booking

    async with services.transaction() as session:
        since = await session.scalar(select(func.coalesce(func.max(Event.id), 0)))
    per_event = await _full_events(services, args.events, args.capacity, f"{variant}{round_}")
    # Events in turn: consecutive cancellations fall on different events, as in a rush.
    queue = [t for n in range(args.capacity) for t in (tokens[n] for tokens in per_event)]

    async def orm(token: str) -> None:
        async with services.transaction() as session:
            await booking.cancel(session, token=token)

    async def hot(token: str) -> None:
        await booking.cancel_now(services, token=token)

    cancel: Callable[[str], Awaitable[None]] = hot if variant == "hot" else orm
    pending = iter(queue)

    async def client() -> None:
        for token in pending:
            await cancel(token)

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.clients)))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    problems = await _check(services, args.capacity, len(queue), since or 0)
    return Run(backend, variant, round_, len(queue), seconds, cpu_seconds, problems)


async def measure(backend: str, args: argparse.Namespace, workdir: Path) -> list[Run]:
    from foundation.services import Services
    from foundation.settings import Settings
    from lunchkafe.migrate import upgrade
    from migrations.models import Event  # noqa: F401  (registers every table)

    runs = []
    async with temporary_database(backend, workdir, args.postgres_url) as url:
        settings = Settings.from_environ(
            {"DATABASE_URL": url, "SECRET_KEY": SECRET, "VAR_DIR": str(workdir / backend)}
        )
        services = Services.build(settings)
        try:
            await upgrade(services.engine)
            # A round of each, unmeasured, so neither meets a cold pool or cache.
            for variant in VARIANTS:
                await _run(services, backend, variant, 0, args)
            for round_ in range(1, args.rounds + 1):
                # Alternating, and the other way round each time: neither always goes first.
                order = VARIANTS if round_ % 2 else VARIANTS[::-1]
                for variant in order:
                    print(f"{backend} / {variant} / round {round_} ...", file=sys.stderr)
                    runs.append(await _run(services, backend, variant, round_, args))
        finally:
            await services.close()
    return runs


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def report(runs: list[Run], args: argparse.Namespace, command: str) -> list[dict[str, Any]]:
    """Print the table; returns one summary row per backend (medians over the rounds)."""
    header = (
        f"{'backend':<11} {'variant':<8} {'round':>5} {'cancels/s':>10} {'cpu ms/c':>9}"
        f" {'ratio':>6}  check"
    )
    print()
    print(header)
    print("-" * len(header))
    by_key = {(r.backend, r.variant, r.round): r for r in runs}
    for r in runs:
        base = by_key.get((r.backend, "orm", r.round))
        shown = _fmt(ratio(r.per_second, base.per_second), 2) if r.variant == "hot" and base else ""
        print(
            f"{r.backend:<11} {r.variant:<8} {r.round:>5} {_fmt(r.per_second):>10}"
            f" {_fmt(r.cpu_ms, 2):>9} {shown:>6}  {'; '.join(r.problems) or 'ok'}"
        )
    summary = []
    print()
    for backend in dict.fromkeys(r.backend for r in runs):
        hot = [m for m in runs if m.backend == backend and m.variant == "hot"]
        orm = [m for m in runs if m.backend == backend and m.variant == "orm"]
        ratios = [ratio(h.per_second, by_key[(backend, "orm", h.round)].per_second) for h in hot]
        hot_rate = statistics.median(m.per_second for m in hot)
        orm_rate = statistics.median(m.per_second for m in orm)
        median = statistics.median(ratios)
        print(
            f"{backend:<11} median of {len(hot)} rounds: hot path {_fmt(hot_rate)}/s"
            f" ({_fmt(statistics.median(m.cpu_ms for m in hot), 2)} ms CPU each), cancel"
            f" {_fmt(orm_rate)}/s ({_fmt(statistics.median(m.cpu_ms for m in orm), 2)} ms CPU"
            f" each), ratio {_fmt(median, 2)}"
        )
        summary.append(
            {
                "what": f"cancellation with promotion, {args.clients} at once ({backend})",
                "value": f"{hot_rate:,.0f}/s",
                "baseline": f"booking.cancel through the ORM, {orm_rate:,.0f}/s",
                "ratio": median,
                "goal": None,
                "errors": sum(len(m.problems) for m in runs if m.backend == backend),
            }
        )
    import sqlalchemy

    print(
        f"\n{args.events} events of {args.capacity} seats, each full with {args.capacity} in"
        f" line; every seat cancelled once per run, each cancellation promoting one;"
        f" {args.clients} tasks at once in one process, no mail delivered."
        f"\n{os.cpu_count()} CPUs, load {_load()}, Python {platform.python_version()},"
        f" SQLAlchemy {sqlalchemy.__version__}"
    )
    print(f"command: {command}")
    return summary


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "-"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cancellation", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=50, help="seats (and people in line)")
    parser.add_argument("--clients", type=int, default=16, help="cancellations at once")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds; medians")
    parser.add_argument(
        "--postgres-url",
        type=loopback_database_url,
        default=loopback_database_url(
            os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        ),
        help="an administrative database on loopback; a scratch database is made and dropped",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if min(args.events, args.capacity, args.clients, args.rounds) <= 0:
        parser.error("--events, --capacity, --clients and --rounds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([sys.executable, "-m", "bench.cancellation", *sys.argv[1:]])
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="lunchkafe-cancellation-") as tmp:
        for backend in backends:
            runs += asyncio.run(asyncio.wait_for(measure(backend, args, Path(tmp)), args.timeout))
    summary = report(runs, args, command)
    if args.json:
        args.json.write_text(json.dumps({"rows": summary, "runs": [r.__dict__ for r in runs]}))
    return 0 if not any(r.problems for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
