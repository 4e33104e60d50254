"""The wheel deploys as it is (issue 8): it carries the templates, static files and migrations,
and installed away from the checkout it migrates a new SQLite database and serves the demo."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DATA_FOLDERS = ("templates", "migrations")
WHERE_FROM = """
import sys, lunchkafe, migrations, templates
print(lunchkafe.__file__, templates.__file__, migrations.__file__, *sys.path)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (built,) = out.glob("lunchkafe-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel alone in a folder of its own; dependencies come from the project's venv."""
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    subprocess.run(
        [*pip, "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target


def shipped_files(folder: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_templates_static_files_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in DATA_FOLDERS:
        missing = sorted(shipped_files(folder) - names)
        assert missing == [], f"left out of the wheel: {missing}"
    assert {"templates/static/site.css", "migrations/env.py"} <= names
    assert any(re.fullmatch(r"migrations/versions/\w+\.py", name) for name in names)
    assert "foundation/locale/en/LC_MESSAGES/messages.po" in names
    metadata = zipfile.ZipFile(wheel).read("lunchkafe-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: EUPL-1.2" in metadata
    assert "lunchkafe-0.1.0.dist-info/licenses/LICENSE" in names


def lunchkafe(
    installed: Path, elsewhere: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", "-m", "lunchkafe", *args],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def environment(installed: Path, tmp_path: Path) -> dict[str, str]:
    """A process that sees the installed wheel and the venv's dependencies, never the checkout:
    `-S` skips the site hooks, among them the editable install's finder."""
    purelib, platlib = sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(installed), purelib, platlib]),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
        "VAR_DIR": str(tmp_path / "var"),
        "PORT": str(free_port()),
    }


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_the_installed_package_runs_from_itself(
    installed: Path, elsewhere: Path, environment: dict[str, str]
) -> None:
    found = subprocess.run(
        [sys.executable, "-S", "-c", WHERE_FROM],
        cwd=elsewhere,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert all(path.startswith(str(installed)) for path in found[:3]), found
    assert str(ROOT) not in found


def test_the_installed_package_migrates_and_serves_the_demo(
    installed: Path, elsewhere: Path, environment: dict[str, str], tmp_path: Path
) -> None:
    lunchkafe(installed, elsewhere, environment, "migrate")
    with sqlite3.connect(tmp_path / "new.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "events", "registrations", "outbox_messages"} <= tables
    lunchkafe(installed, elsewhere, environment, "seed-demo", "--if-empty")

    with serving(elsewhere, environment) as base:
        home = httpx.get(f"{base}/")
        assert home.status_code == 200
        event = re.search(r'href="[^"]*(/events/\d+)"', home.text)
        assert event is not None, "the demo home page links no event"
        assert httpx.get(base + event[1]).status_code == 200
        css = httpx.get(f"{base}/static/site.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")


@contextmanager
def serving(cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """`python -m lunchkafe serve` as a process; yields its base URL once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-S", "-m", "lunchkafe", "serve"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("lunchkafe serve did not answer")
        yield base
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
        assert process.returncode in (0, -15), err.decode(errors="replace")[-2000:]
