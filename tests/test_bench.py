"""`make bench` (bench/run.py) works: every benchmark imports, and a tiny fan-out run ends in
a row of the one table, with its ratio, goal, command and the machine's load."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import bench.booking
import bench.feeds
import bench.pages
from bench import fanout, run

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_is_in_the_table_of_make_bench() -> None:
    args = run.parse_args(["--quick"])
    names = {step.name for step in run.steps(args, Path("/nowhere"))}
    assert names == {"booking16", "booking64", "pages", "feeds", "fanout"}
    for module in (bench.booking, bench.feeds, bench.pages, fanout):
        assert module.__doc__


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
