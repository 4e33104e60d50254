"""How background work runs for a web process: arq on Redis, or in-process without REDIS_URL.

With Redis, the web process only nudges: after a commit that wrote outbox rows it enqueues
`deliver_mail` under the id of the current delivery round (workers/nudges.py), so a burst of
bookings becomes one job and a booking committed while a job runs past its last claim gets a
job of its own; a process nudges at most once per NUDGE_EVERY, each nudge after the commits
it covers. If Redis is away the nudge is dropped with a warning; the worker's outbox
timer and cron sweep still find the rows. Without Redis, one task here runs the same jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from arq import create_pool
from arq.connections import ArqRedis

from foundation.services import Services
from foundation.timestamps import utcnow
from workers.jobs import (
    DELIVER_EVERY,
    HEARTBEAT_EVERY,
    SWEEP_EVERY,
    deliver_mail,
    job_context,
    record_heartbeat,
    sweep,
)
from workers.nudges import CoalescedNudge, nudge_delivery
from workers.settings import redis_settings

log = logging.getLogger("lunchkafe.workers")

Stop = Callable[[], Awaitable[None]]
STOP_GRACE = 10.0  # seconds a stopping web process gives the mail on the wire


async def start_job_runner(services: Services) -> Stop:
    """Start whatever delivers background work for this process; returns how to stop it."""
    if services.settings.redis_url:
        return await _start_arq_nudges(services)
    return _start_in_process(services)


async def _start_arq_nudges(services: Services) -> Stop:
    # No connection retries: arq's default sleeps a second between each of five, and a nudge
    # runs after every commit that wrote mail, so a booking would hang for five seconds.
    settings = dataclasses.replace(redis_settings(services.settings), conn_retries=0)
    pool: ArqRedis | None = None
    try:
        pool = await create_pool(settings)
    except Exception as exc:  # Redis away at start-up must not keep the site down
        log.warning("Redis unreachable at start-up (%s); mail waits for the worker's sweep", exc)

    async def nudge() -> None:
        nonlocal pool
        try:
            if pool is None:
                pool = await create_pool(settings)
            await nudge_delivery(pool)
        except Exception as exc:  # the row is committed; the sweep will deliver it
            log.warning("could not nudge the mail worker (%s); the sweep will deliver", exc)

    # One nudge per NUDGE_EVERY at most, each after the commits it covers (workers/nudges.py).
    coalesced = CoalescedNudge(nudge)
    services.after_commit.append(coalesced.ask)

    async def stop() -> None:
        services.after_commit.remove(coalesced.ask)
        await coalesced.flush()
        if pool is not None:
            await pool.aclose()

    return stop


async def nudge_once(services: Services) -> None:
    """One nudge from a short-lived process such as the command line."""
    stop = await _start_arq_nudges(services)
    try:
        for nudge in list(services.after_commit):
            await nudge()
    finally:
        await stop()


def _start_in_process(services: Services) -> Stop:
    wake = asyncio.Event()
    stopping = asyncio.Event()
    ctx = job_context(services, stop=stopping)
    name = f"{socket.gethostname()}:{os.getpid()} web"
    started_at = utcnow()

    async def nudge() -> None:
        wake.set()

    async def loop() -> None:
        next_sweep = next_beat = 0.0
        while not stopping.is_set():
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + HEARTBEAT_EVERY
                    await record_heartbeat(
                        services, worker=name, started_at=started_at, redis_ok=True
                    )
                if time.monotonic() >= next_sweep:
                    await sweep(ctx)
                    next_sweep = time.monotonic() + SWEEP_EVERY
                else:
                    await deliver_mail(ctx)
            except Exception as exc:  # the type only: a database error may quote a row
                log.error("in-process mail job failed (%s); trying again", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                # Also every few seconds unasked: retries and lapsed claims come due.
                wait = min(max(next_sweep - time.monotonic(), 1), DELIVER_EVERY)
                await asyncio.wait_for(wake.wait(), timeout=wait)
            wake.clear()

    task = asyncio.create_task(loop(), name="lunchkafe-jobs")
    services.after_commit.append(nudge)

    async def stop() -> None:
        services.after_commit.remove(nudge)
        # The messages on the wire finish and the rest of a claimed batch is handed back.
        stopping.set()
        wake.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=STOP_GRACE)

    return stop
