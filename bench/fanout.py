"""Reminder fan-out: 10,000 reminders for one event, from the outbox to a loopback SMTP sink.

    python -m bench.fanout [--backend sqlite|postgresql] [--count 10000] [--connections 4]

Sets up a throw-away database (a temporary SQLite file, or a PostgreSQL database created and
dropped for the run), migrates it, inserts the confirmed registrations in bulk, plans the 24 h
reminders with `create_due_reminders`, then times `deliver_due` sending them to an SMTP sink
that runs in its own process (so it never shares this event loop). The baseline, measured in
the same run against the same sink, is a bare aiosmtplib loop sending the same messages,
built beforehand, over one reused connection. Prints messages per second and the ratio.
Loopback only; everything it creates is removed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bench.common import (
    LOOPBACK,
    ROOT,
    clean_environ,
    ratio,
    registration_row,
    stop_process_group,
)
from tests.ports import free_port

DEFAULT_POSTGRES = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-key-not-for-production"  # noqa: S105  (a throw-away database)


# -- the SMTP sink (runs in its own process) -------------------------------------------------


class _SinkProtocol(asyncio.Protocol):
    """Just enough SMTP to accept every message: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        replies: list[bytes] = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    break
                del self.buffer[: end + 5]
                self.in_data = False
                self.counter[0] += 1
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                self.in_data = True
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 Bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                replies.append(b"250 OK\r\n")
        if replies:
            self.transport.write(b"".join(replies))


async def _sink_main(port: int) -> None:
    counter = [0]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _SinkProtocol(counter), LOOPBACK, port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    print(json.dumps({"messages": counter[0]}), flush=True)


@contextmanager
def smtp_sink() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The sink in a child process; yields its port. Stopped (and reaped) on the way out."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout", "--sink", str(port)],
        cwd=ROOT,
        env=clean_environ(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the SMTP sink did not start")
        yield port, proc
    finally:
        stop_process_group(proc)


def sink_count(proc: subprocess.Popen[bytes]) -> int:
    """Stop the sink and read how many messages it accepted."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    count: int = json.loads(out.decode().strip().splitlines()[-1])["messages"]
    return count


# -- the database ----------------------------------------------------------------------------


@asynccontextmanager
async def temporary_database(backend: str, workdir: Path, admin_url: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
        return
    from tests.databases import drop_database, scratch_database

    host = admin_url.split("@")[-1].split("/")[0].split(":")[0]
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise SystemExit(f"the bench only uses a loopback PostgreSQL, not {host!r}")
    name = f"lunchkafe_bench_{uuid.uuid4().hex[:12]}"
    url = await scratch_database(admin_url, name)
    try:
        yield url
    finally:
        await drop_database(admin_url, name)


# -- the run ---------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, smtp_port: int, workdir: Path) -> dict[str, Any]:
    import aiosmtplib
    from sqlalchemy import insert, select

    from events.schedule import EventDraft, create_event
    from foundation.services import Services
    from foundation.settings import Settings
    from foundation.timestamps import utcnow
    from lunchkafe.migrate import upgrade
    from mail.models import OutboxMessage
    from migrations.models import Event  # noqa: F401  (registers every table)
    from notices.compose import load_drafts, render
    from notices.delivery import deliver_due
    from registrations.models import Registration
    from registrations.reminders import create_due_reminders

    result: dict[str, Any] = {}
    async with temporary_database(args.backend, workdir, args.postgres_url) as url:
        settings = Settings.from_environ(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": SECRET,
                "VAR_DIR": str(workdir / "var"),
                "BASE_URL": "https://lunchkafe.example",
                "SMTP_URL": f"smtp://{LOOPBACK}:{smtp_port}?timeout=30",
            }
        )
        services = Services.build(settings)
        try:
            await upgrade(services.engine)
            # The 24 h reminder fell due a minute ago, well inside REMINDER_GRACE.
            starts = utcnow().replace(microsecond=0) + timedelta(hours=24) - timedelta(minutes=1)
            async with services.transaction() as session:
                event = await create_event(
                    session,
                    EventDraft(
                        title="Lunchkafé om förenkling",
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=1),
                        capacity=args.count,
                        join_url="https://meet.example.se/room",
                        publish=True,
                    ),
                    site_domain="lunchkafe.example",
                )
            booked_at = starts - timedelta(days=3)
            rows = []
            for n in range(args.count):
                booked, _ = registration_row(
                    event_id=event.id,
                    n=n,
                    email=f"person{n}@kommun.example.se",
                    booked_at=booked_at,
                    secret=SECRET,
                )
                rows.append(booked)
            async with services.transaction() as session:
                await session.execute(insert(Registration), rows)

            started = time.perf_counter()
            async with services.transaction() as session:
                planned = await create_due_reminders(
                    session,
                    now=utcnow(),
                    default_offsets=settings.reminder_offsets,
                    grace=settings.reminder_grace,
                )
            result["plan_seconds"] = time.perf_counter() - started
            if planned != args.count:
                raise RuntimeError(f"planned {planned} reminders, expected {args.count}")

            # The baseline's messages: the very mails the outbox will send, built beforehand.
            outbox_rows = []
            async with services.sessionmaker() as session:
                outbox_rows = list((await session.scalars(select(OutboxMessage))).all())
                prebuilt: list[EmailMessage] = []
                now = utcnow()
                for row, draft, reason in await load_drafts(session, outbox_rows, settings, now):
                    assert draft is not None, (row.id, reason)
                    prebuilt.append(render(draft, settings, now))

            started = time.perf_counter()
            report = await deliver_due(services, connections=args.connections)
            result["outbox_seconds"] = time.perf_counter() - started
            if report.sent != args.count:
                raise RuntimeError(f"the outbox sent {report} of {args.count}")

            smtp = aiosmtplib.SMTP(hostname=LOOPBACK, port=smtp_port, timeout=30)
            started = time.perf_counter()
            await smtp.connect()
            for message in prebuilt:
                await smtp.send_message(message)
            await smtp.quit()
            result["baseline_seconds"] = time.perf_counter() - started
        finally:
            await services.close()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4, help="deliver_due's connections")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="an admin URL")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--json", type=Path, help="also write the figures here (bench.run)")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)  # internal: be the sink
    args = parser.parse_args(argv)
    if args.sink is not None:
        asyncio.run(_sink_main(args.sink))
        return

    print("$ " + shlex.join([sys.executable, "-m", "bench.fanout", *sys.argv[1:]]), flush=True)
    with tempfile.TemporaryDirectory(prefix="lunchkafe-fanout-") as tmp, smtp_sink() as sink:
        port, proc = sink
        result = asyncio.run(asyncio.wait_for(measure(args, port, Path(tmp)), args.timeout))
        accepted = sink_count(proc)
    expected = 2 * args.count
    if accepted != expected:
        raise SystemExit(f"the sink accepted {accepted} messages, expected {expected}")

    outbox_rate = args.count / result["outbox_seconds"]
    baseline_rate = args.count / result["baseline_seconds"]
    print(f"backend {args.backend}, {args.count} reminders, sink in a separate process")
    print(f"  planning (create_due_reminders):        {result['plan_seconds']:8.2f} s")
    print(
        f"  outbox deliver_due ({args.connections} connections):    "
        f"{outbox_rate:8.0f} msg/s  ({result['outbox_seconds']:.2f} s)"
    )
    print(
        f"  baseline aiosmtplib, 1 connection,     "
        f"{baseline_rate:8.0f} msg/s  ({result['baseline_seconds']:.2f} s, messages pre-built)"
    )
    print(f"  ratio outbox / baseline:                {ratio(outbox_rate, baseline_rate):8.2f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": [
                        {
                            "what": f"fan-out of {args.count:,} reminders, {args.connections}"
                            f" SMTP connection{'s' if args.connections > 1 else ''}"
                            f" ({args.backend})",
                            "value": f"{outbox_rate:,.0f} msg/s",
                            "baseline": f"bare aiosmtplib loop, 1 connection,"
                            f" {baseline_rate:,.0f} msg/s",
                            "ratio": ratio(outbox_rate, baseline_rate),
                            "goal": 0.6,
                            "errors": 0,
                        }
                    ],
                    **result,
                }
            )
        )


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        main()
