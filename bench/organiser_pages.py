"""Server time of each organiser page on the demo data plus a realistic volume, against the
public home page measured in the same run (issue 9 item 8: no page over 100 ms to render).

    .venv/bin/python bench/organiser_pages.py [--requests 200] [--warmup 20] [--events 40]
                                              [--registrations 2000]
                                              [--backend sqlite|postgresql]
                                              [--profile PAGE]

One run, in-process, on a fresh database (a temporary SQLite file by default, or a fresh
`lunchkafe_bench_organiser` database on a loopback PostgreSQL) migrated with
`lunchkafe.migrate.upgrade`, holding:

- the demo (`lunchkafe.demo.load_demo`: the guide, a series of cafés, a workshop);
- `--events` published cafés over the coming weeks, all dates of one series (whose page is
  measured: every date with its seats and line, and three guide examples linked to each),
  `--registrations` bookings spread over them through `registrations.booking.book` (so each
  has its confirmation mail in the outbox), each café with capacity for four in five of its
  bookings and the rest in line;
- half of each café's confirmed checked in through the workspace's domain function, and a
  message to the confirmed of every fourth café, both audit-logged as the workspace does.

The app (`lunchkafe.app.create_app`) is called through httpx's ASGI transport, signed in
as an admin through the sign-in form. "Server time" is the time from the ASGI call to the
app returning, measured by a thin wrapper around the app, so the client's own work is left
out. Requests go round-robin over the pages (`--warmup` rounds unmeasured first), so every
page, the baseline included, meets the same machine state. The event pages are those of the
busiest café. Each page reports median and p95 over `--requests`, and its median over the
home page's median (the public calendar of everything upcoming: a page anyone may load).

Never asserted anywhere: timings are for reading, not for tests. `--profile PAGE` (a name in
the table) runs cProfile over that page's requests afterwards and prints the functions that
took the most time of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import os
import platform
import pstats
import re
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.common import loopback_database_url, on_alarm, percentile, ratio  # noqa: E402

SECRET = "bench-secret-key-not-for-production"  # noqa: S105  (loopback only)
PASSWORD = "en lång lösenfras för benchen"  # noqa: S105  (a throwaway account)
ADMIN = "admin@bench.example.se"
BENCH_DATABASE = "lunchkafe_bench_organiser"
BASE = "http://testserver"
LIMIT_MS = 100.0  # issue 9 item 8
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Timed:
    """The app, with the wall time of each HTTP call kept in `last` (seconds)."""

    app: ASGIApp
    last: float = math.nan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.perf_counter() - started


@dataclass(frozen=True)
class Prepared:
    busiest: int  # the event whose pages are measured
    series_id: int  # the series holding every café
    send_id: int
    counts: dict[str, int]
    seconds: float


@dataclass
class PageTimes:
    name: str
    path: str
    ms: list[float] = field(default_factory=list)
    bytes: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.ms) if self.ms else math.nan

    @property
    def p95(self) -> float:
        return percentile(sorted(self.ms), 95)


def _environ(database_url: str, var_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "VAR_DIR": str(var_dir),
        "BASE_URL": BASE,
        "BOOKING_RATE_LIMIT": "off",
        "BOOKING_RATE_LIMIT_PER_EMAIL": "off",
    }


async def prepare(services: Any, events: int, registrations: int) -> Prepared:
    """Migrate, load the demo and the volume; see the module's docstring."""
    from sqlalchemy import func, select

    from events.models import Event
    from events.schedule import EventDraft, create_event, create_series
    from foundation.timestamps import utcnow
    from guide import catalogue
    from lunchkafe.demo import load_demo
    from lunchkafe.migrate import upgrade
    from mail.models import Audience, OutboxMessage
    from organisers import accounts, attendees_workspace, messages
    from organisers.models import AuditEntry
    from registrations import booking
    from registrations.attendee import Attendee
    from registrations.models import Registration, RegistrationStatus

    started = time.perf_counter()
    await upgrade(services.engine)
    await load_demo(services, only_if_empty=False)
    now = utcnow()
    async with services.transaction() as session:
        admin = await accounts.add_organiser(
            session, email=ADMIN, name="Bench", role="admin", password=PASSWORD, now=now
        )
        for n in range(5):
            await accounts.add_organiser(
                session,
                email=f"arrangor{n}@bench.example.se",
                name=f"Arrangör {n}",
                role="organiser",
                password=None,
                now=now,
            )
    async with services.transaction() as session:
        series = await create_series(
            session,
            slug="bench-kafeer",
            title="Lunchkaféer om förenkling",
            summary="Varannan dag en timme om hur kommuner förenklar.",
        )
        examples = [e.slug for e in await catalogue.examples(session)][:3]
    per_event = max(1, registrations // events)
    first = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    ids: list[int] = []
    for n in range(events):
        starts = first + timedelta(days=3 + 2 * n)
        async with services.transaction() as session:
            event = await create_event(
                session,
                EventDraft(
                    title=f"Lunchkafé {n + 1}: förenkling och digitalisering",
                    summary="Vi pratar om hur kommuner förenklar sina tjänster.",
                    description="Ett samtal i en timme.\n\n**Välkommen!**",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    capacity=max(1, per_event * 4 // 5),
                    join_url=f"https://meet.example.se/rum-{n}",
                    series_slug=series.slug,
                    publish=True,
                ),
                site_domain="bench.example.se",
            )
        ids.append(event.id)
        async with services.transaction() as session:
            for slug in examples:
                await catalogue.link_example(
                    session, event_id=event.id, example_slug=slug, note="Läs före."
                )
        async with services.transaction() as session:
            for k in range(per_event):
                await booking.book(
                    session,
                    event_id=event.id,
                    attendee=Attendee(
                        name=f"Deltagare {n}-{k}",
                        email=f"deltagare{n}-{k}@kommun{k % 17}.example.se",
                        organisation=f"Kommun {k % 17}",
                        municipality="Region Exempel",
                    ),
                    secret_key=SECRET,
                )
        async with services.transaction() as session:
            confirmed = await session.scalars(
                select(Registration.id)
                .where(
                    Registration.event_id == event.id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
                .order_by(Registration.id)
            )
            for k, registration_id in enumerate(confirmed.all()):
                if k % 2 == 0:
                    # As on the day: check-in opens on the event's date.
                    await attendees_workspace.mark_attendance(
                        session,
                        admin,
                        event.id,
                        registration_id,
                        "present",
                        event.starts_at,
                        tz=services.settings.timezone,
                    )
    send_id = 0
    for n, event_id in enumerate(ids):
        if n % 4 == 0:
            async with services.transaction() as session:
                sent = await messages.send_message(
                    session,
                    admin,
                    event_id,
                    subject="Välkommen på onsdag",
                    body="Hej!\n\nVi ses på onsdag. Ta gärna med en fråga.",
                    audience=Audience.CONFIRMED,
                    now=utcnow(),
                )
                send_id = send_id or sent.id
    async with services.transaction() as session:
        counts = {
            "events": await session.scalar(select(func.count()).select_from(Event)) or 0,
            "registrations": await session.scalar(select(func.count()).select_from(Registration))
            or 0,
            "outbox messages": await session.scalar(select(func.count()).select_from(OutboxMessage))
            or 0,
            "audit entries": await session.scalar(select(func.count()).select_from(AuditEntry))
            or 0,
        }
    return Prepared(ids[0], series.id, send_id, counts, time.perf_counter() - started)


def pages(prepared: Prepared) -> list[PageTimes]:
    event = f"/organiser/events/{prepared.busiest}"
    return [
        PageTimes("home (baseline)", "/"),
        PageTimes("overview", "/organiser/"),
        PageTimes("event", event),
        PageTimes("series", f"/organiser/series/{prepared.series_id}"),
        PageTimes("attendees", f"{event}/attendees"),
        PageTimes("check-in", f"{event}/check-in"),
        PageTimes("messages", f"{event}/messages"),
        PageTimes("send progress", f"/organiser/sends/{prepared.send_id}"),
        PageTimes("event outbox", f"{event}/outbox"),
        PageTimes("outbox", "/organiser/outbox"),
        PageTimes("audit log", "/organiser/audit"),
        PageTimes("accounts", "/organiser/accounts"),
    ]


async def sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/organiser/login")
    match = CSRF_FIELD.search(form.text)
    if match is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    done = await client.post(
        "/organiser/login",
        data={"csrf_token": match.group(1), "email": ADMIN, "password": PASSWORD},
    )
    if done.status_code != 303:
        raise RuntimeError(f"sign-in answered {done.status_code}")


async def measure(
    args: argparse.Namespace, database_url: str, workdir: Path
) -> tuple[list[PageTimes], Prepared, str | None]:
    from foundation.services import Services
    from foundation.settings import Settings
    from lunchkafe.app import create_app

    services = Services.build(Settings.from_environ(_environ(database_url, workdir)))
    try:
        prepared = await prepare(services, args.events, args.registrations)
        print(f"data ready in {prepared.seconds:.1f} s: {prepared.counts}", file=sys.stderr)
        timed = Timed(create_app(services.settings, services))
        measured = pages(prepared)
        transport = httpx.ASGITransport(app=timed)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            await sign_in(client)
            for round_ in range(args.warmup + args.requests):
                for page in measured:
                    answer = await client.get(page.path)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{page.path} answered {answer.status_code}")
                    if round_ >= args.warmup:
                        page.ms.append(timed.last * 1000)
                        page.bytes = len(answer.content)
            profile = None
            if args.profile:
                (chosen,) = [p for p in measured if p.name == args.profile]
                profile = await profiled(client, chosen.path, args.requests)
    finally:
        await services.close()
    return measured, prepared, profile


async def profiled(client: httpx.AsyncClient, path: str, requests: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        await client.get(path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    return f"cProfile of {requests} x GET {path}:\n{out.getvalue()}"


def report(
    measured: Sequence[PageTimes], prepared: Prepared, args: argparse.Namespace
) -> list[str]:
    baseline = measured[0].median
    header = f"{'page':<16} {'median ms':>9} {'p95 ms':>8} {'ratio':>6} {'kB':>6}  path"
    print()
    print(header)
    print("-" * len(header))
    over = []
    for page in measured:
        flag = "  OVER 100 ms" if page.median > LIMIT_MS else ""
        if flag:
            over.append(page.name)
        print(
            f"{page.name:<16} {page.median:>9.1f} {page.p95:>8.1f}"
            f" {ratio(page.median, baseline):>6.2f} {page.bytes / 1000:>6.1f}  {page.path}{flag}"
        )
    import sqlalchemy
    import starlette

    print(
        f"\nserver time: ASGI call to return, in-process (httpx ASGITransport), signed in as an"
        f" admin; ratio = page median / home page median, same run."
        f"\n{args.requests} requests a page after {args.warmup} warm-up rounds, round-robin;"
        f" backend {args.backend}; data: demo + {prepared.counts}."
        f"\n{os.cpu_count()} CPUs, Python {platform.python_version()}, Starlette"
        f" {starlette.__version__}, SQLAlchemy {sqlalchemy.__version__}"
        f"\ncommand: {shlex.join(sys.orig_argv)}"
    )
    return over


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="measured requests a page")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured rounds first")
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        type=loopback_database_url,
        default=loopback_database_url("postgresql://postgres@127.0.0.1:5432/postgres"),
        help=f"an administrative database on loopback; {BENCH_DATABASE} is dropped and created",
    )
    parser.add_argument("--profile", metavar="PAGE", help="cProfile one page afterwards")
    args = parser.parse_args(argv)
    if min(args.requests, args.events, args.registrations) <= 0 or args.warmup < 0:
        parser.error("--requests, --events and --registrations must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    budget = 300 + args.registrations * 0.05 + args.requests * 12 * 0.5
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(math.ceil(budget))
    try:
        with tempfile.TemporaryDirectory(prefix="lunchkafe-bench-organiser-") as tmp:
            workdir = Path(tmp)
            if args.backend == "sqlite":
                database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
            else:
                from tests.databases import scratch_database

                database_url = asyncio.run(scratch_database(args.postgres_url, BENCH_DATABASE))
            try:
                measured, prepared, profile = asyncio.run(measure(args, database_url, workdir))
            finally:
                if args.backend == "postgresql":
                    from tests.databases import drop_database

                    asyncio.run(drop_database(args.postgres_url, BENCH_DATABASE))
    finally:
        signal.alarm(0)
    over = report(measured, prepared, args)
    if profile:
        print(f"\n{profile}")
    if over:
        print(f"\nover {LIMIT_MS:g} ms (median): {', '.join(over)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
