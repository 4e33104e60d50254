"""`make bench`: every benchmark once, and ONE table of ratios measured in this run.

    .venv/bin/python -m bench.run [--quick] [--only booking,cancellation,pages,feeds,fanout]

Runs, one after the other on this machine, each in a process of its own:

- bench/booking.py at 16 and 64 clients on SQLite and PostgreSQL: bookings/s with p50/p99
  against the same transaction on the raw driver behind a bare Starlette endpoint. The app
  runs as in production, nudging the arq worker on a loopback Redis (REDIS_URL, database 14)
  instead of sending mail in the web process, which the raw baseline never does; with no Redis
  on loopback it falls back to embedded mode, and the rows and the notes say so;
- bench/cancellation.py on SQLite and PostgreSQL: cancellations with promotion per second
  through the hot path (`booking.cancel_now`) against `booking.cancel` in a unit of work;
- bench/pages.py: GET /, GET /events/{id} and GET /guide against a bare render of the same
  template and context, and pages and booking with 1,000 events and 100,000 registrations
  against a near-empty database (its booking runs in embedded mode on both sides: pages.py
  takes no Redis);
- bench/feeds.py: the public feed, full and 304, against the same bytes from memory;
- bench/fanout.py: 10,000 reminders from the outbox against a bare aiosmtplib loop.

Each row of the table says the command that produced it and the machine's load when it
finished (os.getloadavg's one-minute figure, and the number of cores): a ratio measured on
a busy machine is worth less, and the row says so. The default run takes some 5 minutes;
`--quick` is a smoke run of a minute or two whose figures mean little.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.booking import GOAL_P99_CLIENTS, GOAL_P99_FACTOR, GOAL_RATIO, goal_met  # noqa: E402
from bench.common import clean_environ  # noqa: E402

# The goals (issue 11): booking ≥ 0.7 of the raw driver with p99 ≤ 1.5 × its p99 at
# 64 clients (bench/booking.py holds them, so its report and this table agree), pages ≥ 0.5 of
# the bare render, fan-out ≥ 0.6, feed 304 ≥ 0.5; none for cancellation.
STEPS = ("booking", "cancellation", "pages", "feeds", "fanout")
# Production mode for the booking rows: the arq worker's queue on a loopback Redis. Database 14,
# so nothing of a development or test Redis is touched; booking.py removes what it queued.
REDIS_URL = "redis://127.0.0.1:6379/14"
PRODUCTION_MODE = "production mode: mail jobs to arq on Redis"
EMBEDDED_MODE = "embedded mode: mail sent in the web process"


@dataclass(frozen=True)
class Row:
    what: str
    value: str
    baseline: str
    ratio: float
    goal: str
    met: bool | None  # None: no goal for this row
    command: str
    load: str


@dataclass(frozen=True)
class Step:
    name: str
    argv: list[str]
    redis_url: str | None = None  # booking steps: the app's REDIS_URL (None: embedded mode)


def _python() -> str:
    here = Path(sys.executable)
    try:
        return str(here.relative_to(ROOT)) if here.is_relative_to(ROOT) else sys.executable
    except ValueError:
        return sys.executable


def redis_problem(url: str) -> str | None:
    """Why the Redis at `url` cannot be used (a short text), or None when it answers PING."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    finally:
        client.close()
    return None


def steps(args: argparse.Namespace, out: Path, *, redis_url: str | None) -> list[Step]:
    """The benchmark commands to run, in order; `redis_url` None runs booking in embedded mode."""
    py = _python()
    quick = args.quick
    window = ["--seconds", "1", "--warmup", "0.3"] if quick else ["--seconds", "5"]
    found = []
    for clients in (16, 64):
        found.append(
            Step(
                f"booking{clients}",
                [
                    py,
                    "bench/booking.py",
                    "--clients",
                    str(clients),
                    *window,
                    *(["--redis-url", redis_url] if redis_url else []),
                    "--json",
                    str(out / f"booking{clients}.json"),
                ],
                redis_url=redis_url,
            )
        )
    size = ["--events", "4", "--capacity", "20", "--rounds", "1"] if quick else []
    found.append(
        Step(
            "cancellation",
            [py, "-m", "bench.cancellation", *size, "--json", str(out / "cancellation.json")],
        )
    )
    scale = ["--events", "100", "--registrations", "5000"] if quick else []
    found.append(
        Step("pages", [py, "-m", "bench.pages", *window, *scale, "--json", str(out / "pages.json")])
    )
    events = ["--events", "200"] if quick else []
    found.append(
        Step("feeds", [py, "bench/feeds.py", *window, *events, "--json", str(out / "feeds.json")])
    )
    count = "500" if quick else "10000"
    found.append(
        Step(
            "fanout",
            [
                py,
                "-m",
                "bench.fanout",
                "--count",
                count,
                "--connections",
                "1",
                "--json",
                str(out / "fanout.json"),
            ],
        )
    )
    chosen = set(args.only.split(",")) if args.only else set(STEPS)
    return [s for s in found if s.name.rstrip("0123456789") in chosen]


def _load_now() -> str:
    one, _, _ = os.getloadavg()
    return f"{one:.1f} / {os.cpu_count()} cores"


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def booking_rows(
    runs: list[dict[str, Any]], clients: int, command: str, load: str, *, production: bool
) -> list[Row]:
    """One row per backend from bench/booking.py's runs (the first round); `production` says
    whether the app ran with REDIS_URL (mail jobs to arq) or in embedded mode."""
    names = {"sqlite": ("SQLite", "raw sqlite3"), "postgresql": ("PostgreSQL", "raw asyncpg")}
    rows = []
    for backend, (label, raw_name) in names.items():
        mine = [r for r in runs if r["backend"] == backend and r["variant"] == "lunchkafe"]
        raws = [r for r in runs if r["backend"] == backend and r["variant"] == "raw"]
        if not mine or not raws:
            continue
        app, raw = mine[0]["load"], raws[0]["load"]
        app_rate = app["ok"] / app["seconds"] if app["seconds"] else math.nan
        raw_rate = raw["ok"] / raw["seconds"] if raw["seconds"] else math.nan
        r = app_rate / raw_rate if raw_rate else math.nan
        bad = sum(n for s, n in app["statuses"].items() if not s.startswith("2"))
        errors = bad + app["connection_errors"] + app["unfinished"]
        checked = mine[0]["check"]
        capacity_ok = all(e["confirmed"] <= e["capacity"] for e in checked["events"])
        mode = PRODUCTION_MODE if production else EMBEDDED_MODE
        rows.append(
            Row(
                what=f"booking, {label}, {clients} clients ({mode})",
                value=f"{_fmt(app_rate, 0)}/s, p50 {_fmt(app['p50_ms'])} ms,"
                f" p99 {_fmt(app['p99_ms'])} ms",
                baseline=f"{raw_name} {_fmt(raw_rate, 0)}/s, p50 {_fmt(raw['p50_ms'])} ms,"
                f" p99 {_fmt(raw['p99_ms'])} ms",
                ratio=r,
                goal=f"≥ {GOAL_RATIO}, p99 ≤ {GOAL_P99_FACTOR}× raw"
                if clients == GOAL_P99_CLIENTS
                else f"≥ {GOAL_RATIO}",
                met=goal_met(r, app["p99_ms"], raw["p99_ms"], clients, errors) and capacity_ok,
                command=command,
                load=load,
            )
        )
    return rows


def cancellation_rows(found: dict[str, Any], command: str, load: str) -> list[Row]:
    """One row per backend from bench/cancellation.py: the hot path over the ORM path; the
    issue sets no number for it."""
    labels = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    # cancellation.py writes its summary rows in the order its runs name the backends.
    backends = list(dict.fromkeys(r["backend"] for r in found["runs"]))
    rows = []
    for backend, row in zip(backends, found["rows"], strict=True):
        r = float(row["ratio"]) if row["ratio"] is not None else math.nan
        rows.append(
            Row(
                what="cancellation with promotion, hot path vs ORM unit of work,"
                f" {labels.get(backend, backend)}",
                value=f"{row['value']}" + (" (a check failed)" if row.get("errors") else ""),
                baseline=row["baseline"],
                ratio=r,
                goal="",
                met=None,
                command=command,
                load=load,
            )
        )
    return rows


def plain_rows(found: dict[str, Any], command: str, load: str) -> list[Row]:
    """Rows that bench/pages.py, feeds.py and fanout.py wrote themselves."""
    rows = []
    for row in found["rows"]:
        r = float(row["ratio"]) if row["ratio"] is not None else math.nan
        goal = row.get("goal")
        rows.append(
            Row(
                what=row["what"],
                value=row["value"],
                baseline=row["baseline"],
                ratio=r,
                goal=f"≥ {goal}" if goal is not None else "",
                met=None if goal is None else (r >= goal and not row.get("errors")),
                command=command,
                load=load,
            )
        )
    return rows


def table(rows: Sequence[Row]) -> str:
    """The rows as one Markdown table (it reads in a terminal and in README.md alike)."""
    lines = [
        "| what | Lunchkafé | baseline, same run | ratio | goal | met | load (1 min) | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {row.what} | {row.value} | {row.baseline} | {_fmt(row.ratio, 2)} | {row.goal}"
            f" | {met} | {row.load} | `{row.command}` |"
        )
    return "\n".join(lines)


def notes(redis_url: str | None, problem: str | None, chosen: Sequence[Step]) -> list[str]:
    """What the table's reader needs to know about how its rows ran (mode of the booking rows)."""
    found = []
    if any(s.name.startswith("booking") for s in chosen):
        if redis_url is not None:
            found.append(
                f"Booking rows ran in production mode: the app had REDIS_URL={redis_url}, so each"
                " commit nudged the arq worker's queue (no worker ran; the queued job was"
                " removed) and the web process sent no mail, as the raw baseline sends none."
            )
        else:
            found.append(
                f"Booking rows ran in EMBEDDED mode: no Redis answered at {REDIS_URL}"
                f" ({problem}), so the web process also delivered every confirmation mail, work"
                " the raw baseline never does; their ratios understate production."
            )
    if any(s.name == "pages" for s in chosen):
        found.append(
            "The pages step's booking at scale ran in embedded mode on both sides of its ratio"
            " (bench/pages.py takes no Redis)."
        )
    if any(s.name == "cancellation" for s in chosen):
        found.append(
            "Cancellation: in one process, no HTTP and no mail delivered; the issue sets no"
            " number for it, so its goal column is empty."
        )
    return found


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    rows: list[Row] = []
    failures: list[str] = []
    chosen_steps = set(args.only.split(",")) if args.only else set(STEPS)
    problem = redis_problem(REDIS_URL) if "booking" in chosen_steps else None
    redis_url = REDIS_URL if problem is None else None
    if problem is not None:
        print(f"no Redis at {REDIS_URL} ({problem}): booking in embedded mode", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="lunchkafe-bench-run-") as tmp:
        out = Path(tmp)
        chosen = steps(args, out, redis_url=redis_url)
        for step in chosen:
            # The command as one would type it; --json only hands the figures to this table.
            shown = shlex.join(step.argv[:-2])
            print(f"== {shown}", file=sys.stderr, flush=True)
            log = out / f"{step.name}.log"
            with log.open("wb") as sink:
                done = subprocess.run(
                    step.argv,
                    cwd=ROOT,
                    env=clean_environ(),
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            load = _load_now()
            result = out / (step.argv[-1].rsplit("/", 1)[-1])
            if not result.exists():
                failures.append(
                    f"{shown} exited with {done.returncode}:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
                continue
            if done.returncode != 0:
                failures.append(
                    f"{shown} exited with {done.returncode} (a check failed; its rows are shown)"
                )
            found = json.loads(result.read_text())
            if step.name.startswith("booking"):
                clients = int(step.name[len("booking") :])
                production = step.redis_url is not None
                rows += booking_rows(found, clients, shown, load, production=production)
            elif step.name == "cancellation":
                rows += cancellation_rows(found, shown, load)
            else:
                rows += plain_rows(found, shown, load)
    minutes = (time.monotonic() - started) / 60
    print()
    print(
        f"Lunchkafé benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}, {minutes:.1f} min"
        f"{' (--quick: smoke run, the figures mean little)' if args.quick else ''};"
        " each ratio is Lunchkafé / its baseline measured in the same run"
    )
    print()
    print(table(rows))
    print()
    for note in notes(redis_url, problem, chosen):
        print(f"- {note}")
    for failure in failures:
        print(f"\n{failure}", file=sys.stderr)
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", help=f"a comma-separated choice of {', '.join(STEPS)}")
    args = parser.parse_args(argv)
    if args.only and not set(args.only.split(",")) <= set(STEPS):
        parser.error(f"--only takes {', '.join(STEPS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
