"""Whether the service can do its work now: the database, Redis, mail delivery.

One report, read by the health probes (web/health.py): the database, Redis (when REDIS_URL is
set), the mail waiting in the outbox, and when a delivery worker was last seen (its heartbeat
lives in the database, so it outlives Redis). `problems` says in words what is wrong; `ready`
is False when the database is unreachable, or, with REDIS_URL set (so mail is a separate
worker's job), when Redis does not answer or no worker has beaten within WORKER_GONE_AFTER
(issue 13: readiness is the database, Redis when configured, and a worker seen lately).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import text

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.heartbeat import last_heartbeat
from mail.outbox import backlog
from mail.outbox_counts import counts_by_status

# Seconds each check may take by default: long enough that a SQLite database busy with a
# burst of bookings is not taken for gone.
READINESS_TIMEOUT = 2.0
# A worker writes a heartbeat every 10 s (the in-process runner of a web process too).
WORKER_SILENT_AFTER = timedelta(seconds=60)
# Twelve missed heartbeats: a worker restarting or riding out a database blip beats again
# well within this, so a worker silent this long is stopped (issue 13: two minutes).
WORKER_GONE_AFTER = timedelta(minutes=2)
# Mail due longer than this means delivery is not keeping up (or not running).
MAIL_LATE_AFTER = timedelta(minutes=10)


@dataclass
class Report:
    """What `/readyz` says; `problems` is empty when all is well."""

    database: bool = False
    redis: bool | None = None  # None: REDIS_URL is not set
    backlog: int | None = None
    oldest_due_seconds: float | None = None
    worker_seen_seconds_ago: float | None = None
    worker_reaches_redis: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def worker_gone(self) -> bool:
        """With REDIS_URL set, no worker has beaten within WORKER_GONE_AFTER (or ever)."""
        if self.redis is None or not self.database:  # no REDIS_URL: the web process sends
            return False
        seen = self.worker_seen_seconds_ago
        return seen is None or seen > WORKER_GONE_AFTER.total_seconds()

    @property
    def ready(self) -> bool:
        return self.database and self.redis is not False and not self.worker_gone

    @property
    def status(self) -> str:
        """One word for the worst of it: why not ready, else "degraded" or "ok"."""
        if not self.database:
            return "unavailable"
        if self.worker_gone:
            return "worker_stopped"
        if self.redis is False:
            return "redis_unreachable"
        return "degraded" if self.problems else "ok"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "database": {"reachable": self.database},
            "redis": None if self.redis is None else {"reachable": self.redis},
            "mail": {"due": self.backlog, "oldest_due_seconds": self.oldest_due_seconds},
            "worker": {
                "last_seen_seconds_ago": self.worker_seen_seconds_ago,
                "reaches_redis": self.worker_reaches_redis,
            },
            "problems": self.problems,
        }


async def check(built: Services, within: float = READINESS_TIMEOUT) -> Report:
    """Check the database and Redis at once, each within `within` seconds."""
    report = Report()
    now = utcnow()
    database, redis_ok = await asyncio.gather(
        _database(built, now, report, within), _redis(built.settings.redis_url, within)
    )
    report.database = database
    report.redis = redis_ok
    if redis_ok is None:  # no REDIS_URL: there is no Redis for a worker to reach either
        report.worker_reaches_redis = None
    if not database:
        report.problems.append("database unreachable")
    if redis_ok is False:
        report.problems.append("Redis unreachable: mail goes out on the worker's timer")
    if database:
        seen = report.worker_seen_seconds_ago
        if seen is None:
            report.problems.append("no mail worker has been seen")
        elif report.worker_gone:
            report.problems.append(
                "the mail worker has not been seen for over two minutes: mail is not sent"
            )
        elif seen > WORKER_SILENT_AFTER.total_seconds():
            report.problems.append("the mail worker has not been seen for a while")
        late = report.oldest_due_seconds
        if late is not None and late > MAIL_LATE_AFTER.total_seconds():
            report.problems.append("mail is waiting longer than it should")
    return report


async def _database(built: Services, now: datetime, report: Report, within: float) -> bool:
    try:
        async with asyncio.timeout(within), built.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            waiting = await backlog(session, now)
            heartbeat = await last_heartbeat(session)
    except Exception:  # unreachable, timed out, not migrated: all mean "not ready"
        return False
    report.backlog = waiting.due
    if waiting.oldest_due_at is not None:
        report.oldest_due_seconds = round((now - waiting.oldest_due_at).total_seconds(), 1)
    if heartbeat is not None:
        report.worker_seen_seconds_ago = round((now - heartbeat.seen_at).total_seconds(), 1)
        report.worker_reaches_redis = heartbeat.redis_ok
    return True


async def _redis(url: str | None, within: float) -> bool | None:
    if not url:
        return None
    client = aioredis.Redis.from_url(url, socket_connect_timeout=within, socket_timeout=within)
    try:
        async with asyncio.timeout(within):
            await client.ping()
    except Exception:  # refused, timed out, wrong password: all mean "not reachable"
        return False
    finally:
        await client.aclose()
    return True


@dataclass(frozen=True)
class Gauges:
    """What the metrics read from the database at scrape time."""

    outbox: dict[str, int]
    oldest_due_seconds: float
    worker_seen_seconds_ago: float | None


async def gauges(built: Services, within: float = READINESS_TIMEOUT) -> Gauges | None:
    """Outbox rows by status, how long the oldest due mail has waited, and when a worker was
    last seen; None when the database does not answer within `within` seconds."""
    now = utcnow()
    try:
        async with asyncio.timeout(within), built.sessionmaker() as session:
            outbox = await counts_by_status(session)
            waiting = await backlog(session, now)
            heartbeat = await last_heartbeat(session)
    except Exception:  # unreachable or timed out: the scrape still answers, without these
        return None
    oldest = waiting.oldest_due_at
    return Gauges(
        outbox=outbox,
        oldest_due_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        worker_seen_seconds_ago=(now - heartbeat.seen_at).total_seconds() if heartbeat else None,
    )
