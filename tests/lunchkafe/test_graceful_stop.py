"""The web process, run as the Procfile says, finishes a request in flight when a supervisor
sends SIGTERM: the booking whose body is still arriving is taken and answered, and the
process exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from foundation.services import Services
from lunchkafe.migrate import upgrade
from tests.conftest import SECRET, make_settings
from tests.factories import make_event, registration_of
from tests.ports import free_port
from tests.processes import ROOT

BIN = Path(sys.executable).parent


def procfile_line(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"no {process!r} line in the Procfile")


@pytest.fixture
def web_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """The Procfile's `web` line through a shell, as a platform runs it (with its two uvicorn
    workers), on a SQLite database of its own; yields the process, its port and its log."""
    port = free_port()
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "SECRET_KEY": SECRET,
        "VAR_DIR": str(tmp_path / "var"),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "BOOKING_RATE_LIMIT": "off",
        "BOOKING_RATE_LIMIT_PER_EMAIL": "off",
    }
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["sh", "-c", f"exec {procfile_line('web')}"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    yield process, port, log
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def test_sigterm_lets_the_request_in_flight_finish(
    web_process: tuple[subprocess.Popen[bytes], int, Path], tmp_path: Path
) -> None:
    process, port, _ = web_process
    services = Services.build(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'web.db'}", tmp_path))
    try:
        await upgrade(services.engine)
        event = await make_event(services)
        await _until_it_answers(port, process)

        body = json.dumps(
            {"name": "Person 1", "email": "person1@kommun.example.se", "consent": True}
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST /api/v1/events/{event.id}/registrations HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body[:10]
        )
        await writer.drain()
        await asyncio.sleep(0.5)  # the request has begun: headers read, body awaited

        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(1.0)  # uvicorn is stopping: its workers have the signal too
        assert process.poll() is None, "the web process did not wait for the request"

        writer.write(body[10:])
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=20)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 202 "), answer[:200]
        assert await asyncio.to_thread(process.wait, 30) == 0
        booked = await registration_of(services, event.id, "person1@kommun.example.se")
        assert booked.name == "Person 1"
    finally:
        await services.close()


async def _until_it_answers(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the web process exited (its log: web.log)"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the web process did not answer within 60 s (its log: web.log)")
