"""`make bench`: every benchmark once, and ONE table of ratios measured in this run.

    .venv/bin/python -m bench.run [--quick] [--only booking,pages,feeds,fanout]

Runs, one after the other on this machine, each in a process of its own:

- bench/booking.py at 16 and 64 clients on SQLite and PostgreSQL: bookings/s with p50/p99
  against the same transaction on the raw driver behind a bare Starlette endpoint;
- bench/pages.py: GET /, GET /events/{id} and GET /guide against a bare render of the same
  template and context, and pages and booking with 1,000 events and 100,000 registrations
  against a near-empty database;
- bench/feeds.py: the public feed, full and 304, against the same bytes from memory;
- bench/fanout.py: 10,000 reminders from the outbox against a bare aiosmtplib loop.

Each row of the table says the command that produced it and the machine's load when it
finished (os.getloadavg's one-minute figure, and the number of cores): a ratio measured on
a busy machine is worth less, and the row says so. The default run takes some 8–10 minutes;
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

from bench.common import clean_environ  # noqa: E402

# The goals (issue 11): booking ≥ 0.7 of the raw driver with p99 ≤ 1.5 × its p99 at
# 64 clients, pages ≥ 0.5 of the bare render, fan-out ≥ 0.6, feed 304 ≥ 0.5.
BOOKING_GOAL = 0.7
BOOKING_P99_FACTOR = 1.5
STEPS = ("booking", "pages", "feeds", "fanout")


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


def _python() -> str:
    here = Path(sys.executable)
    try:
        return str(here.relative_to(ROOT)) if here.is_relative_to(ROOT) else sys.executable
    except ValueError:
        return sys.executable


def steps(args: argparse.Namespace, out: Path) -> list[Step]:
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
                    "--json",
                    str(out / f"booking{clients}.json"),
                ],
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


def booking_rows(runs: list[dict[str, Any]], clients: int, command: str, load: str) -> list[Row]:
    """One row per backend from bench/booking.py's runs (the first round)."""
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
        p99_ok = app["p99_ms"] <= BOOKING_P99_FACTOR * raw["p99_ms"]
        checked = mine[0]["check"]
        capacity_ok = all(e["confirmed"] <= e["capacity"] for e in checked["events"])
        rows.append(
            Row(
                what=f"booking, {label}, {clients} clients",
                value=f"{_fmt(app_rate, 0)}/s, p50 {_fmt(app['p50_ms'])} ms,"
                f" p99 {_fmt(app['p99_ms'])} ms",
                baseline=f"{raw_name} {_fmt(raw_rate, 0)}/s, p50 {_fmt(raw['p50_ms'])} ms,"
                f" p99 {_fmt(raw['p99_ms'])} ms",
                ratio=r,
                goal=f"≥ {BOOKING_GOAL}, p99 ≤ {BOOKING_P99_FACTOR}× raw"
                if clients == 64
                else f"≥ {BOOKING_GOAL}",
                met=(
                    r >= BOOKING_GOAL and (p99_ok or clients != 64) and not errors and capacity_ok
                ),
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


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    rows: list[Row] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lunchkafe-bench-run-") as tmp:
        out = Path(tmp)
        for step in steps(args, out):
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
                rows += booking_rows(found, int(step.name[len("booking") :]), shown, load)
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
