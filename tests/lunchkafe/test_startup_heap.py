"""A started web process keeps what it loaded out of the garbage collector's full passes.

Under a rush of bookings, each full collection walked everything the process had loaded
(modules, routes, SQLAlchemy's and pydantic's tables): 100-150 ms during which no request
moved, the p99 of the booking benchmark (issue 11). lunchkafe.app's lifespan freezes that
heap once started. Checked in a process of its own: freezing is for the whole process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import asyncio, gc, json, sys
from foundation.settings import Settings
from lunchkafe.app import create_app

app = create_app(Settings.from_environ({"VAR_DIR": sys.argv[1]}))

async def main():
    before = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
    print(json.dumps({"before": before, "frozen": frozen}))

asyncio.run(main())
"""


def test_the_loaded_heap_is_frozen_once_the_app_has_started(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == 0
    # The modules, routes and mappings of the app are many tens of thousands of objects.
    assert seen["frozen"] > 50_000, seen
