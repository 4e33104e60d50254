"""Issue 7, item 4, at full size: kill -9 the worker during 2,000 reminders, start another,
and count what arrived at a real SMTP server.

    .venv/bin/python scripts/attack_kill_worker.py [--database postgresql|sqlite]
        [--reminders 2000] [--kill-after 700] [--connections 1-32]

Prints lost and doubled messages and how long the dead worker's claims waited. Uses a
scratch PostgreSQL database (TEST_POSTGRES_URL) or SQLite file, a redis-server of its own on
a free port and aiosmtpd on loopback; the worker runs as the Procfile says.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import select  # noqa: E402

from foundation.services import Services  # noqa: E402
from foundation.settings import DEFAULT_SMTP_CONNECTIONS, MAX_SMTP_CONNECTIONS  # noqa: E402
from foundation.timestamps import utcnow  # noqa: E402
from lunchkafe.migrate import upgrade  # noqa: E402
from mail.models import OutboxMessage, OutboxStatus  # noqa: E402
from registrations.messaging import send_reminder_now  # noqa: E402
from tests.conftest import SECRET, Recorder, make_settings  # noqa: E402
from tests.databases import POSTGRES_ADMIN_URL, drop_database, scratch_database  # noqa: E402
from tests.factories import add_confirmed, make_event  # noqa: E402
from tests.ports import free_port  # noqa: E402
from tests.processes import RedisServer, procfile_command  # noqa: E402

_PARSER = BytesParser(policy=policy.default)


def received_ids(recorder: Recorder) -> Counter[int]:
    found: Counter[int] = Counter()
    for envelope in list(recorder.messages):
        assert isinstance(envelope.content, bytes)
        message_id = str(_PARSER.parsebytes(envelope.content)["Message-ID"])
        found[int(message_id.split("outbox", 1)[1].split("@", 1)[0])] += 1
    return found


def start_worker(
    services: Services, smtp_port: int, redis_url: str, log: Path, connections: int
) -> Any:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": services.settings.database_url,
        "SECRET_KEY": SECRET,
        "VAR_DIR": str(services.settings.var_dir),
        "BASE_URL": services.settings.base_url,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=10",
        "REDIS_URL": redis_url,
        "SMTP_CONNECTIONS": str(connections),
    }
    with log.open("wb") as out:
        command = procfile_command("worker")  # the Procfile is ours, not user input
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603


async def attack(
    database: str, reminders: int, kill_after: int, workdir: Path, connections: int
) -> None:
    scratch = f"lunchkafe_attack_{os.getpid()}"
    if database == "postgresql":
        url = await scratch_database(POSTGRES_ADMIN_URL, scratch)
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'attack.db'}"
    services = Services.build(make_settings(url, workdir))
    recorder = Recorder()
    smtp_port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    redis = RedisServer(free_port(), workdir)
    workers = []
    try:
        await upgrade(services.engine)
        controller.start()
        redis.start()
        event = await make_event(services, capacity=reminders)
        await add_confirmed(services, event.id, range(1, reminders + 1))
        async with services.transaction() as session:
            await send_reminder_now(session, event.id)

        started = time.monotonic()
        workers.append(
            start_worker(services, smtp_port, redis.url, workdir / "worker-1.log", connections)
        )
        while len(recorder.messages) < kill_after:  # noqa: ASYNC110  (another thread appends)
            await asyncio.sleep(0.005)
        workers[0].kill()
        workers[0].wait()
        killed_at, received_at_kill = utcnow(), len(recorder.messages)
        async with services.transaction() as session:
            orphaned = set(
                (
                    await session.scalars(
                        select(OutboxMessage.id).where(
                            OutboxMessage.status == OutboxStatus.SENDING,
                            OutboxMessage.next_attempt_at > killed_at,
                        )
                    )
                ).all()
            )

        workers.append(
            start_worker(services, smtp_port, redis.url, workdir / "worker-2.log", connections)
        )
        while True:
            async with services.transaction() as session:
                rows = list((await session.scalars(select(OutboxMessage))).all())
            if all(r.status == OutboxStatus.SENT for r in rows):
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started

        counts = received_ids(recorder)
        ids = {r.id for r in rows}
        lost = len(ids - set(counts))
        doubled = sum(n - 1 for n in counts.values())
        sent_at = {r.id: r.sent_at for r in rows if r.sent_at is not None}
        takeover = max(
            ((sent_at[i] - killed_at).total_seconds() for i in orphaned if i in sent_at),
            default=0.0,
        )
        print(f"database: {database}; reminders: {len(rows)}; killed after {received_at_kill}")
        print(f"rows the dead worker held: {len(orphaned)}")
        print(f"lost: {lost}; received twice: {doubled}; messages received: {sum(counts.values())}")
        print(f"seconds from kill -9 until the last of its rows was sent: {takeover:.1f}")
        print(f"seconds for the whole run: {elapsed:.1f}")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait()
        redis.stop()
        controller.stop()
        await services.close()
        if database == "postgresql":
            await drop_database(POSTGRES_ADMIN_URL, scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--reminders", type=int, default=2000)
    parser.add_argument("--kill-after", type=int, default=700, help="messages received first")
    parser.add_argument(
        "--connections",
        type=int,
        default=DEFAULT_SMTP_CONNECTIONS,
        choices=range(1, MAX_SMTP_CONNECTIONS + 1),
        metavar="1-32",
        help="SMTP_CONNECTIONS",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(
            attack(args.database, args.reminders, args.kill_after, Path(workdir), args.connections)
        )


if __name__ == "__main__":
    main()
