"""Real processes for tests: a redis-server of the test's own, and the worker itself started
as the Procfile says, so the tests run what production runs.

The fixtures here (`own_redis`, `start_worker`) reach every test through `pytest_plugins` in
tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from foundation.settings import Settings
from tests.conftest import SECRET, require_service
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]


def procfile_command(process: str) -> list[str]:
    """The Procfile's command for `process`, with its program taken from this virtualenv."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            argv = shlex.split(command)
            if argv[0] in ("python", "python3"):
                argv[0] = sys.executable
            else:
                argv[0] = str(Path(sys.executable).parent / argv[0])
            return argv
    raise AssertionError(f"no {process!r} line in the Procfile")


@dataclass
class RedisServer:
    """A redis-server of the test's own (never the machine's), stopped and started at will."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            require_service("redis-server", "the binary is not installed")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(self.port):
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A stopped redis-server on a free port; the test calls start() and stop()."""
    server = RedisServer(free_port(), tmp_path)
    yield server
    server.stop()


@dataclass
class WorkerProcess:
    """The Procfile's `worker`, running in a process of its own; its log goes to a file."""

    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start the Procfile's worker against `settings`, with extra environment if given."""
    started: list[WorkerProcess] = []

    def start(settings: Settings, **environ: str) -> WorkerProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": SECRET,
            "VAR_DIR": str(settings.var_dir),
            "BASE_URL": settings.base_url,
            "SMTP_CONNECTIONS": str(settings.smtp_connections),
            **({"SMTP_URL": settings.smtp_url} if settings.smtp_url else {}),
            **({"REDIS_URL": settings.redis_url} if settings.redis_url else {}),
            **environ,
        }
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                procfile_command("worker"), cwd=ROOT, env=env, stdout=log, stderr=log
            )
        worker = WorkerProcess(process, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive:
            worker.process.kill()
            worker.process.wait(timeout=10)


async def eventually(
    condition: Callable[[], Awaitable[bool]], *, within: float, what: str, every: float = 0.1
) -> float:
    """Wait until `condition` holds; returns the seconds it took, fails after `within`."""
    start = time.monotonic()
    while True:
        if await condition():
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)
