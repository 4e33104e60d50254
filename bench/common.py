"""Shared bench helpers: servers in subprocesses, a lean HTTP/1.1 load generator, percentiles.

The load generator runs in its own process (`run_load` starts `python -m bench.common`), so
it never shares an event loop or a core's time slice with the server it measures. It speaks
HTTP/1.1 by hand over asyncio protocols on keep-alive connections: httpx and friends cost
more per request than the servers being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, cast
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


# -- statistics ------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending sequence; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


# -- processes -------------------------------------------------------------------------------


def uvicorn_argv(app: str, port: int, *, factory: bool = False) -> list[str]:
    """Uvicorn as production runs it: uvloop, httptools, no access log, one worker."""
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]
    if factory:
        argv.append("--factory")
    return argv


def clean_environ(**extra: str) -> dict[str, str]:
    """The parent's environment without anything that would reach beyond loopback."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL", "PYTHONPATH"}
    }
    environ.update(extra)
    return environ


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGINT (uvicorn shuts down cleanly, cProfile writes its file), then SIGKILL."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # Anything the server started is in its process group; leave nothing behind.
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and all its threads so far (Linux; else NaN)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tail(log: IO[bytes], limit: int = 4000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:]


def _http_ok(port: int, path: str) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}\r\nConnection: close\r\n\r\n".encode()
            )
            head = sock.recv(64)
    except OSError:
        return False
    return head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2"))


@contextmanager
def serve(
    argv: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    ready_path: str = "/healthz",
    timeout: float = 30.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in its own process group until the block ends, whatever happens."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _http_ok(port, ready_path):
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{_tail(log)}")
                time.sleep(0.05)
            yield proc
            if proc.poll() is not None:
                raise RuntimeError(f"server died during the run:\n{_tail(log)}")
        finally:
            stop_process_group(proc)


# -- the load generator ----------------------------------------------------------------------


@dataclass
class LoadSpec:
    """What to send. `{uid}` in the body template becomes a token unique to the request."""

    port: int
    paths: list[str]
    clients: int
    seconds: float
    method: str = "GET"
    body_template: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    warmup: float = 1.0
    # Count responses whose body contains each marker (e.g. '"status":"confirmed"').
    markers: list[str] = field(default_factory=list)
    # How long a request still in flight when the window closes may take before it counts
    # as unfinished.
    drain: float = 10.0
    host: str = LOOPBACK


@dataclass
class LoadResult:
    seconds: float  # the measured window
    completed: int  # responses completed in the window
    ok: int  # 2xx responses completed in the window
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]  # every response, warm-up included
    connection_errors: int
    unfinished: int  # still in flight `drain` seconds after the window
    markers: dict[str, int]  # every response, warm-up included
    total_ok: int  # 2xx responses, warm-up included

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else math.nan

    @property
    def errors(self) -> int:
        bad = sum(n for status, n in self.statuses.items() if not status.startswith("2"))
        return bad + self.connection_errors + self.unfinished


def run_load(spec: LoadSpec) -> LoadResult:
    """Drive a server from a separate process; bounded by the spec's durations."""
    if spec.host not in LOOPBACK_NAMES:
        raise ValueError(f"load generator only targets loopback, not {spec.host!r}")
    budget = spec.warmup + spec.seconds + spec.drain + 30
    done = subprocess.run(
        [sys.executable, "-m", "bench.common", json.dumps(asdict(spec))],
        cwd=ROOT,
        env=clean_environ(),
        capture_output=True,
        timeout=budget,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr.decode(errors='replace')}")
    return LoadResult(**json.loads(done.stdout.decode().strip().splitlines()[-1]))


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            parsed = _parse_response(self.buffer)
        except ValueError as exc:
            waiter.set_exception(exc)
            return
        if parsed is not None:
            status, body, consumed, keep_alive = parsed
            del self.buffer[:consumed]
            waiter.set_result((status, body, keep_alive))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed mid-response"))

    async def request(self, data: bytes) -> tuple[int, bytes, bool]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _parse_response(buffer: bytearray) -> tuple[int, bytes, int, bool] | None:
    """(status, body, bytes consumed, keep-alive) once a whole response is buffered."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            keep_alive = value.strip().lower() != "close"
    start = end + 4
    if status in (204, 304) or 100 <= status < 200:
        return status, b"", start, keep_alive
    if not chunked:
        if len(buffer) < start + length:
            return None
        return status, bytes(buffer[start : start + length]), start + length, keep_alive
    body = bytearray()
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buffer[pos:line_end]).split(b";")[0], 16)
        chunk_start = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            if trailer_end < 0:
                return None
            return status, bytes(body), trailer_end + 4, keep_alive
        if len(buffer) < chunk_start + size + 2:
            return None
        body += buffer[chunk_start : chunk_start + size]
        pos = chunk_start + size + 2


@dataclass
class _Tally:
    window_start: float
    window_end: float
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    ok: int = 0
    total_ok: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    connection_errors: int = 0
    markers: dict[str, int] = field(default_factory=dict)


async def _client(number: int, spec: LoadSpec, tally: _Tally, heads: list[bytes]) -> None:
    loop = asyncio.get_running_loop()
    template = spec.body_template
    markers = [(m, m.encode()) for m in spec.markers]
    conn: _Connection | None = None
    sequence = 0
    try:
        while time.perf_counter() < tally.window_end:
            if conn is None or conn.closed:
                try:
                    _, conn = await loop.create_connection(_Connection, spec.host, spec.port)
                except OSError:
                    tally.connection_errors += 1
                    await asyncio.sleep(0.05)
                    continue
            head = heads[(number + sequence) % len(heads)]
            if template is None:
                data = head + b"\r\n"
            else:
                body = template.replace("{uid}", f"{number}x{sequence}").encode()
                data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
            sequence += 1
            started = time.perf_counter()
            try:
                status, payload, keep_alive = await conn.request(data)
            except (ConnectionError, ValueError):
                tally.connection_errors += 1
                conn.close()
                conn = None
                continue
            finished = time.perf_counter()
            key = str(status)
            tally.statuses[key] = tally.statuses.get(key, 0) + 1
            good = 200 <= status < 300
            tally.total_ok += good
            for name, marker in markers:
                if marker in payload:
                    tally.markers[name] = tally.markers.get(name, 0) + 1
            if tally.window_start <= finished <= tally.window_end:
                tally.completed += 1
                tally.ok += good
                tally.latencies.append(finished - started)
            if not keep_alive:
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()


async def _drive(spec: LoadSpec) -> LoadResult:
    start = time.perf_counter()
    tally = _Tally(window_start=start + spec.warmup, window_end=start + spec.warmup + spec.seconds)
    extra = "".join(f"{k}: {v}\r\n" for k, v in spec.headers.items())
    heads = [
        f"{spec.method} {path} HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\n{extra}".encode()
        for path in spec.paths
    ]
    tasks = [asyncio.create_task(_client(n, spec, tally, heads)) for n in range(spec.clients)]
    _, pending = await asyncio.wait(tasks, timeout=spec.warmup + spec.seconds + spec.drain)
    for task in pending:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome  # a bug in the client must not pass for a quiet server
    latencies = sorted(tally.latencies)
    return LoadResult(
        seconds=spec.seconds,
        completed=tally.completed,
        ok=tally.ok,
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=(latencies[-1] if latencies else math.nan) * 1000,
        statuses=tally.statuses,
        connection_errors=tally.connection_errors,
        unfinished=len(pending),
        markers=tally.markers,
        total_ok=tally.total_ok,
    )


def _load_main(raw: str) -> None:
    spec = LoadSpec(**json.loads(raw))
    try:
        import uvloop
    except ImportError:  # the plain loop works, only slower
        result = asyncio.run(_drive(spec))
    else:
        result = uvloop.run(_drive(spec))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.common '<LoadSpec as JSON>'")
    _load_main(sys.argv[1])


def loopback_database_url(url: str) -> str:
    """An argparse type: benchmarks only ever touch databases on this machine."""
    from foundation.settings import normalise_database_url

    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_NAMES:
        raise argparse.ArgumentTypeError(f"only loopback databases, not {host!r}")
    return normalise_database_url(url)


def on_alarm(signum: int, frame: FrameType | None) -> None:
    """SIGALRM handler: a benchmark that overruns its budget stops instead of hanging."""
    raise TimeoutError("the benchmark overran its time budget")


# -- data ------------------------------------------------------------------------------------


def registration_row(
    *,
    event_id: int,
    n: int,
    email: str,
    booked_at: datetime,
    secret: str,
    waitlist_number: int | None = None,
) -> tuple[dict[str, Any], str]:
    """Person `n`'s registration as a bulk `insert(Registration)` takes it, booked at
    `booked_at` (naive UTC is fine): confirmed, or in line at `waitlist_number`; and the
    manage token its link carries. Only what a booking stores, with no outbox row."""
    from registrations.models import RegistrationStatus
    from registrations.tokens import derive_token, hash_token, new_nonce

    nonce = new_nonce()
    token = derive_token(secret, nonce)
    seated = waitlist_number is None
    row = {
        "event_id": event_id,
        "name": f"Person {n}",
        "email": email,
        "email_normalised": email,
        "organisation": "Exempelkommun",
        "municipality": "",
        "consent_at": booked_at,
        "status": RegistrationStatus.CONFIRMED if seated else RegistrationStatus.WAITLISTED,
        "waitlist_number": waitlist_number,
        "sequence_bump": 0,
        "token_nonce": nonce,
        "manage_token_hash": hash_token(token),
        "created_at": booked_at,
        "updated_at": booked_at,
        "confirmed_at": booked_at if seated else None,
    }
    return row, token
