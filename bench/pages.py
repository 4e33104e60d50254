"""The public pages against a bare render of the same template and context, and what a full
database costs pages and bookings.

    .venv/bin/python -m bench.pages [--seconds 5] [--clients 16] [--backend sqlite]
                                    [--events 1000] [--registrations 100000] [--json FILE]

On loopback only, each on a fresh migrated database (a temporary SQLite file, or a scratch
PostgreSQL database dropped afterwards):

- **pages**: the real app (`lunchkafe.asgi:app`, uvicorn as in production, one worker) serving
  GET / (the event list), GET /events/{id} and GET /guide, against a bare Starlette endpoint
  (`baseline_app` below, same uvicorn options) that renders the very template object with the
  very context the app rendered for that path (captured once at start-up through the app
  itself) and returns it: the page's own work minus everything but Jinja.
- **scale**: the same three pages and a booking (POST /api/events/{id}/registrations, the
  rate limits off) on a near-empty database (20 events, no registrations) and on one holding
  `--events` events and `--registrations` confirmed registrations; the ratio is full / empty.

The load generator (bench/common.py) runs in its own process. Requests per second count 2xx
responses in the measured window after the warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    LOOPBACK,
    LoadResult,
    LoadSpec,
    clean_environ,
    loopback_database_url,
    on_alarm,
    ratio,
    registration_row,
    run_load,
    serve,
    uvicorn_argv,
)
from tests.ports import free_port  # noqa: E402

SECRET = "bench-secret-key-not-for-production"  # noqa: S105  (loopback only)
BENCH_DATABASE = "lunchkafe_bench_pages"
NEAR_EMPTY_EVENTS = 20
EXAMPLES = 12
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


def _environ(database_url: str, var_dir: Path, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "VAR_DIR": str(var_dir),
        "BASE_URL": f"http://{LOOPBACK}:{port}",
        "PORT": str(port),
        # Thousands of bookings from one address in seconds: the limits would refuse them.
        "BOOKING_RATE_LIMIT": "off",
        "BOOKING_RATE_LIMIT_PER_EMAIL": "off",
    }


# =============================================================================================
# The baseline: the same template and context, rendered from memory.
# uvicorn imports this module in the server subprocess: `bench.pages:baseline_app`.
# =============================================================================================


def baseline_app() -> Starlette:
    """Capture, through the real app, the template and context each page path renders, then
    serve `template.render(context)` for it and nothing else."""
    import jinja2
    from starlette.testclient import TestClient

    from lunchkafe.asgi import app as real_app

    paths: list[str] = json.loads(os.environ["BENCH_PAGE_PATHS"])
    captured: dict[str, tuple[jinja2.Template, dict[str, Any]]] = {}
    rendered: list[tuple[jinja2.Template, dict[str, Any]]] = []
    original = jinja2.Template.render

    def spy(self: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        rendered.append((self, dict(*args, **kwargs)))
        return original(self, *args, **kwargs)

    jinja2.Template.render = spy  # type: ignore[method-assign]
    try:
        with TestClient(real_app, base_url=f"http://{LOOPBACK}") as client:
            for path in paths:
                rendered.clear()
                answer = client.get(path)
                if answer.status_code != 200 or not rendered:
                    raise RuntimeError(f"{path}: {answer.status_code}, no page rendered")
                captured[path] = rendered[-1]  # the page (a layout renders within it)
    finally:
        jinja2.Template.render = original  # type: ignore[method-assign]

    async def page(request: Request) -> Response:
        template, context = captured[request.url.path]
        return HTMLResponse(template.render(context))

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/healthz", healthz)] + [Route(path, page) for path in captured])


# =============================================================================================
# The data.
# =============================================================================================


async def _prepare(environ: dict[str, str], events: int, registrations: int) -> list[int]:
    """Migrate; publish `events` events (the first two weeks ahead, a few a day) and the
    guide's examples; add `registrations` confirmed seats spread over the events in bulk.
    Returns the event ids."""
    from sqlalchemy import insert

    from events.schedule import EventDraft, create_event
    from foundation.services import Services
    from foundation.settings import Settings
    from guide.catalogue import add_example, link_example
    from lunchkafe.migrate import upgrade
    from registrations.models import Registration

    services = Services.build(Settings.from_environ(environ))
    try:
        await upgrade(services.engine)
        first = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
        ids: list[int] = []
        async with services.transaction() as session:
            examples = [
                await add_example(
                    session,
                    slug=f"exempel-{n}",
                    title=f"Förenklad bygglovsprocess {n}",
                    organisation=f"Exempelkommun {n}",
                    summary="Så kortade kommunen handläggningstiden med hälften.",
                )
                for n in range(EXAMPLES)
            ]
            for n in range(events):
                starts = first + timedelta(days=1 + n // 4, hours=2 * (n % 4))
                event = await create_event(
                    session,
                    EventDraft(
                        title=f"Lunchkafé {n}: förenkling och företagsklimat",
                        summary="Vi pratar om hur kommuner förenklar för företag.",
                        description="Ett samtal i en timme.\n\nVälkommen!",
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=1),
                        capacity=100_000,
                        join_url=f"https://meet.example.se/rum-{n}",
                        publish=True,
                    ),
                    site_domain=LOOPBACK,
                )
                ids.append(event.id)
                if n < 3:
                    for example in examples[:3]:
                        await link_example(session, event_id=event.id, example_slug=example.slug)
        booked_at = first - timedelta(days=3)
        rows = []
        for n in range(registrations):
            row, _ = registration_row(
                event_id=ids[n % len(ids)],
                n=n,
                email=f"person{n}@kommun.example.se",
                booked_at=booked_at,
                secret=SECRET,
            )
            rows.append(row)
            if len(rows) == 5000 or n == registrations - 1:
                async with services.transaction() as session:
                    await session.execute(insert(Registration), rows)
                rows = []
        await _count_seats(services)
        return ids
    finally:
        await services.close()


async def _count_seats(services: Any) -> None:
    """Keep a seat counter in step with the inserted rows, where the schema has one (the
    booking hot path's, migration 0009)."""
    from sqlalchemy import inspect, text

    async with services.engine.begin() as conn:
        columns = await conn.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("events")}
        )
        if "confirmed_count" in columns:
            await conn.execute(
                text(
                    "UPDATE events SET confirmed_count = (SELECT count(*) FROM registrations r"
                    " WHERE r.event_id = events.id AND r.status = 'confirmed')"
                )
            )


# =============================================================================================
# The run.
# =============================================================================================


@dataclass(frozen=True)
class Measured:
    name: str  # "GET /", "booking", …
    server: str  # "lunchkafe" | "bare"
    data: str  # "empty" | "full"
    load: LoadResult


def _paths(ids: list[int]) -> dict[str, str]:
    return {"GET /": "/", "GET /events/{id}": f"/events/{ids[1]}", "GET /guide": "/guide"}


def _load(port: int, path: str, args: argparse.Namespace, **extra: Any) -> LoadResult:
    return run_load(
        LoadSpec(
            port=port,
            paths=[path],
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup,
            **extra,
        )
    )


def _warm(port: int, paths: Sequence[str]) -> None:
    """A few requests to each page first: the first ones compile templates and open
    connections, which is start-up, not a page's cost."""
    import http.client

    for path in paths:
        for _ in range(10):
            conn = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
            try:
                conn.request("GET", path)
                conn.getresponse().read()
            finally:
                conn.close()


def _database(args: argparse.Namespace, workdir: Path, name: str) -> str:
    if args.backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / f'{name}.db'}"
    from tests.databases import scratch_database

    return asyncio.run(scratch_database(args.postgres_url, f"{BENCH_DATABASE}_{name}"))


def _measure_data(
    args: argparse.Namespace, workdir: Path, data: str, events: int, registrations: int
) -> list[Measured]:
    port = free_port()
    var_dir = workdir / data
    var_dir.mkdir()
    environ = _environ(_database(args, workdir, data), var_dir, port)
    started = time.perf_counter()
    ids = asyncio.run(_prepare(environ, events, registrations))
    print(
        f"{data}: {events} events, {registrations} registrations ready in"
        f" {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    paths = _paths(ids)
    runs: list[Measured] = []
    env = clean_environ(**environ)
    with serve(uvicorn_argv("lunchkafe.asgi:app", port), port=port, env=env):
        _warm(port, list(paths.values()))
        for name, path in paths.items():
            print(f"{data} / lunchkafe / {name} ...", file=sys.stderr, flush=True)
            runs.append(Measured(name, "lunchkafe", data, _load(port, path, args)))
        print(f"{data} / lunchkafe / booking ...", file=sys.stderr, flush=True)
        booking = _load(
            port,
            f"/api/events/{ids[0]}/registrations",
            args,
            method="POST",
            body_template=BODY_TEMPLATE,
            headers={"Content-Type": "application/json"},
        )
        runs.append(Measured("booking", "lunchkafe", data, booking))
    if data == "empty":
        bare_port = free_port()
        bare_env = clean_environ(**environ, BENCH_PAGE_PATHS=json.dumps(list(paths.values())))
        argv = uvicorn_argv("bench.pages:baseline_app", bare_port, factory=True)
        with serve(argv, port=bare_port, env=bare_env, timeout=120):
            _warm(bare_port, list(paths.values()))
            for name, path in paths.items():
                print(f"{data} / bare render / {name} ...", file=sys.stderr, flush=True)
                runs.append(Measured(name, "bare", data, _load(bare_port, path, args)))
    return runs


def measure(args: argparse.Namespace, workdir: Path) -> list[Measured]:
    runs = _measure_data(args, workdir, "empty", NEAR_EMPTY_EVENTS, 0)
    if args.registrations or args.events > NEAR_EMPTY_EVENTS:
        runs += _measure_data(args, workdir, "full", args.events, args.registrations)
    return runs


# -- reporting -------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def rows(runs: Sequence[Measured], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The results as rows for bench.run's table: pages against the bare render, and full
    against near-empty."""
    by = {(m.name, m.server, m.data): m.load for m in runs}
    found: list[dict[str, Any]] = []
    for name in ("GET /", "GET /events/{id}", "GET /guide"):
        app, bare = by[(name, "lunchkafe", "empty")], by[(name, "bare", "empty")]
        found.append(
            {
                "what": f"{name}, {args.clients} clients ({args.backend})",
                "value": f"{_fmt(app.per_second, 0)}/s, p99 {_fmt(app.p99_ms)} ms",
                "baseline": f"bare render {_fmt(bare.per_second, 0)}/s",
                "ratio": ratio(app.per_second, bare.per_second),
                "goal": 0.5,
                "errors": app.errors + bare.errors,
            }
        )
    for name in ("GET /", "GET /events/{id}", "GET /guide", "booking"):
        if (name, "lunchkafe", "full") not in by:
            continue
        empty, full = by[(name, "lunchkafe", "empty")], by[(name, "lunchkafe", "full")]
        found.append(
            {
                "what": f"scale: {name} with {args.events:,} events and"
                f" {args.registrations:,} registrations ({args.backend})",
                "value": f"{_fmt(full.per_second, 0)}/s, p99 {_fmt(full.p99_ms)} ms",
                "baseline": f"near-empty database {_fmt(empty.per_second, 0)}/s",
                "ratio": ratio(full.per_second, empty.per_second),
                "goal": 0.5,
                "errors": empty.errors + full.errors,
            }
        )
    return found


def report(runs: Sequence[Measured], args: argparse.Namespace) -> None:
    header = f"{'what':<80} {'ratio':>6}  {'goal':>5}"
    print()
    print(header)
    print("-" * len(header))
    for row in rows(runs, args):
        print(
            f"{row['what'] + ': ' + row['value'] + ' vs ' + row['baseline']:<80}"
            f" {_fmt(row['ratio'], 2):>6}  {row['goal']:>5}"
        )
    for m in runs:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(m.load.statuses.items()))
        print(f"  {m.data:<5} {m.server:<9} {m.name:<16} responses {statuses}")
    print(f"command: {shlex.join(sys.orig_argv)}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=1000, help="events in the full database")
    parser.add_argument("--registrations", type=int, default=100_000, help="in the full one")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        type=loopback_database_url,
        default=loopback_database_url("postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an administrative database on loopback; the bench's databases are dropped",
    )
    parser.add_argument("--json", type=Path, help="also write the rows here (bench.run)")
    args = parser.parse_args(argv)
    if min(args.seconds, args.clients, args.events) <= 0 or args.warmup < 0:
        parser.error("--seconds, --clients and --events must be positive")
    if args.events < 3:
        parser.error("--events must be 3 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    budget = 12 * (args.warmup + args.seconds + 45) + 300 + args.registrations * 0.002
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(math.ceil(budget))
    try:
        with tempfile.TemporaryDirectory(prefix="lunchkafe-bench-pages-") as tmp:
            try:
                runs = measure(args, Path(tmp))
            finally:
                if args.backend == "postgresql":
                    from tests.databases import drop_database

                    for data in ("empty", "full"):
                        asyncio.run(drop_database(args.postgres_url, f"{BENCH_DATABASE}_{data}"))
    finally:
        signal.alarm(0)
    report(runs, args)
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows(runs, args), "runs": [asdict(m) for m in runs]})
        )
    return 0 if all(m.load.errors == 0 for m in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
