"""`make bench` (bench/run.py) works: every benchmark imports, and a tiny fan-out run ends in
a row of the one table, with its ratio, goal, command and the machine's load."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import bench.booking
import bench.cancellation
import bench.feeds
import bench.pages
from bench import fanout, run

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_is_in_the_table_of_make_bench() -> None:
    args = run.parse_args(["--quick"])
    names = {step.name for step in run.steps(args, Path("/nowhere"), redis_url=run.REDIS_URL)}
    assert names == {"booking16", "booking64", "cancellation", "pages", "feeds", "fanout"}
    for module in (bench.booking, bench.cancellation, bench.feeds, bench.pages, fanout):
        assert module.__doc__


def test_booking_runs_in_production_mode_when_redis_answers_and_embedded_otherwise() -> None:
    args = run.parse_args([])
    # The Redis the tests run against answers on loopback (scripts/test-deps.sh starts it).
    assert run.redis_problem(run.REDIS_URL) is None
    production = run.steps(args, Path("/nowhere"), redis_url=run.REDIS_URL)
    booking = [s for s in production if s.name.startswith("booking")]
    assert len(booking) == 2
    for step in booking:
        assert step.argv[step.argv.index("--redis-url") + 1] == "redis://127.0.0.1:6379/14"
        assert step.redis_url == run.REDIS_URL
    # bench/pages.py takes no Redis, so no other step is given one.
    assert all("--redis-url" not in s.argv for s in production if s not in booking)

    embedded = run.steps(args, Path("/nowhere"), redis_url=None)
    assert all("--redis-url" not in s.argv and s.redis_url is None for s in embedded)
    assert run.redis_problem("redis://127.0.0.1:1/14") is not None
    (note,) = run.notes(None, "ConnectionError: refused", [embedded[0]])
    assert note.startswith("Booking rows ran in EMBEDDED mode")
    assert "ConnectionError: refused" in note


def _booking_run(variant: str, per_second: float, p99_ms: float) -> dict[str, Any]:
    load = {
        "seconds": 1.0,
        "ok": per_second,
        "p50_ms": p99_ms / 4,
        "p99_ms": p99_ms,
        "statuses": {"201": per_second},
        "connection_errors": 0,
        "unfinished": 0,
    }
    check = {"events": [{"confirmed": 50, "capacity": 50}]}
    return {"backend": "sqlite", "variant": variant, "load": load, "check": check}


def test_booking_goal_is_the_issues_in_the_table_and_in_booking_py() -> None:
    """At 64 clients: ratio ≥ 0.7 and p99 ≤ 1.5 × the raw p99; at 16 clients the ratio alone."""
    cases = [
        # (bookings/s, p99 ms) for Lunchkafé, then the raw driver; met at 64, met at 16
        ((700, 150), (1000, 100), True, True),
        ((700, 151), (1000, 100), False, True),
        ((699, 10), (1000, 100), False, False),
    ]
    for (app_rate, app_p99), (raw_rate, raw_p99), at_64, at_16 in cases:
        runs = [
            _booking_run("lunchkafe", app_rate, app_p99),
            _booking_run("raw", raw_rate, raw_p99),
        ]
        for clients, expected in ((64, at_64), (16, at_16)):
            (row,) = run.booking_rows(runs, clients, "cmd", "0.5 / 2 cores", production=True)
            assert row.met is expected, (app_rate, app_p99, clients)
            assert (
                bench.booking.goal_met(app_rate / raw_rate, app_p99, raw_p99, clients, errors=0)
                is expected
            )
            assert "production mode" in row.what
    assert bench.booking.goal_text(64) == "ratio >= 0.7 and p99 <= 1.5 x raw p99"
    assert bench.booking.goal_text(16) == "ratio >= 0.7"
    assert not bench.booking.goal_met(0.9, 10, 100, 16, errors=1)
    runs = [_booking_run("lunchkafe", 800, 10), _booking_run("raw", 1000, 10)]
    (row,) = run.booking_rows(runs, 64, "cmd", "load", production=False)
    assert "embedded mode" in row.what


def test_a_tiny_cancellation_run_ends_in_a_row_per_backend(tmp_path: Path) -> None:
    figures = tmp_path / "cancellation.json"
    command = [sys.executable, "-m", "bench.cancellation", "--events", "2", "--capacity", "3"]
    done = subprocess.run(
        [*command, "--rounds", "1", "--clients", "2", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]

    rows = run.cancellation_rows(json.loads(figures.read_text()), "the command", "0.5 / 2 cores")
    assert [row.what for row in rows] == [
        "cancellation with promotion, hot path vs ORM unit of work, SQLite",
        "cancellation with promotion, hot path vs ORM unit of work, PostgreSQL",
    ]
    for row in rows:
        assert math.isfinite(row.ratio)
        assert row.ratio > 0
        assert row.goal == ""
        assert row.met is None
        assert row.baseline.startswith("booking.cancel through the ORM")
    assert "| cancellation with promotion" in run.table(rows).splitlines()[2]


def test_a_tiny_fan_out_ends_in_a_row_of_the_table(tmp_path: Path) -> None:
    figures = tmp_path / "fanout.json"
    command = [sys.executable, "-m", "bench.fanout", "--count", "20", "--connections", "1"]
    done = subprocess.run(
        [*command, "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]

    rows = run.plain_rows(json.loads(figures.read_text()), "the command", "0.5 / 2 cores")
    assert len(rows) == 1
    (row,) = rows
    assert row.what.startswith("fan-out of 20 reminders")
    assert math.isfinite(row.ratio)
    assert row.ratio > 0
    assert row.goal == "≥ 0.6"
    table = run.table(rows).splitlines()
    assert table[0].startswith("| what | Lunchkafé | baseline, same run | ratio | goal |")
    assert "`the command`" in table[2]
    assert "0.5 / 2 cores" in table[2]
