"""The worker process, the Procfile's `worker`: `python -m workers.run`.

arq runs the jobs while Redis answers. When Redis goes away the process stays up: it keeps
delivering due mail straight from the outbox on its own timer (the outbox, not the queue, is
the source of truth), tries Redis again with a capped back-off, and resumes arq once Redis
answers. It writes a heartbeat to the database, which `/readyz` reads.

Losing Redis stops only the taking of new arq jobs: a delivery already running needs no Redis
(the outbox and SMTP are all it uses), so it runs to its end; cutting it off would put the
message on the wire back in the outbox to be sent twice.

SIGTERM or SIGINT: no new jobs; the messages on the wire finish, the rest of each claimed
batch is handed back for another worker, and the process exits 0 within GRACE seconds in all,
counted once from the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, cast

import redis.asyncio as aioredis
import uvicorn
from arq import create_pool
from arq.connections import ArqRedis
from arq.worker import Worker, create_worker

from foundation import metrics
from foundation.logs import configure_logging
from foundation.services import Services
from foundation.settings import ConfigurationError, Settings
from foundation.timestamps import utcnow
from workers.jobs import (
    DELIVER_EVERY,
    HEARTBEAT_EVERY,
    SWEEP_EVERY,
    deliver_mail,
    job_context,
    plan_mail,
    record_heartbeat,
)
from workers.settings import WorkerSettings, redis_settings

log = logging.getLogger("lunchkafe.workers")

# Seconds a stopping worker gives everything it runs, in all; supervisors should wait longer (30 s).
GRACE = 20.0
# Seconds between tries to reach Redis again: quick after a blip, capped for a long outage.
REDIS_BACKOFF = (1.0, 2.0, 4.0, 5.0)
# A ping that takes longer than this means Redis is not there, even if no socket says so.
REDIS_PING_TIMEOUT = 3.0


class RedisLost(Exception):
    """The heartbeat's ping failed while arq was running: restart arq once Redis answers."""


class WorkerProcess:
    """One worker: arq while Redis answers, the outbox timer always, a heartbeat always."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.stop = asyncio.Event()
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.started_at = utcnow()
        self.redis_ok = False
        self.arq_running = False
        self._redis_lost = asyncio.Event()
        # When the one GRACE of a stop runs out (loop time), set once when stopping begins.
        self._deadline: float | None = None
        # Jobs an arq that lost Redis was running, finishing on their own (see _run_arq).
        self._draining: set[asyncio.Task[None]] = set()
        # Jobs see `stop` and end their delivery runs after the messages on the wire.
        self.ctx = job_context(services, stop=self.stop)

    async def run(self) -> None:
        helpers = [
            asyncio.create_task(self._outbox_timer(), name="outbox-timer"),
            asyncio.create_task(self._heartbeat(), name="heartbeat"),
            asyncio.create_task(self._grace_from_stop(), name="grace"),
        ]
        try:
            if self.services.settings.redis_url:
                await self._arq_while_redis_answers()
            else:
                log.info("REDIS_URL is not set: delivering mail from the database alone")
                await self.stop.wait()
        finally:
            self.stop.set()
            # What is left of the one GRACE: _run_arq may have spent some on its jobs already.
            tasks = [*helpers, *self._draining]
            _, pending = await asyncio.wait(tasks, timeout=self._grace_left())
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _grace_from_stop(self) -> None:
        await self.stop.wait()
        self._grace_left()

    def _grace_left(self) -> float:
        """Seconds left of GRACE, counted from the first call after stopping began (>= 0)."""
        now = asyncio.get_running_loop().time()
        if self._deadline is None:
            self._deadline = now + GRACE
        return max(0.0, self._deadline - now)

    async def _arq_while_redis_answers(self) -> None:
        failures = 0
        while not self.stop.is_set():
            settings = dataclasses.replace(redis_settings(self.services.settings), conn_retries=0)
            try:
                pool = await create_pool(settings)
            except Exception as exc:  # Redis away: mail goes on from the outbox meanwhile
                if failures == 0:
                    log.warning(
                        "Redis unreachable (%s: %s); delivering mail from the database and "
                        "trying Redis again",
                        type(exc).__name__,
                        exc,
                    )
                delay = REDIS_BACKOFF[min(failures, len(REDIS_BACKOFF) - 1)]
                failures += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=delay)
                continue
            if failures:
                log.info("Redis answers again; arq resumes")
            failures = 0
            try:
                await self._run_arq(pool)
            except Exception as exc:  # Redis went away under arq
                log.warning(
                    "Redis lost (%s: %s); delivering mail from the database and trying Redis again",
                    type(exc).__name__,
                    exc,
                )
                failures = 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=REDIS_BACKOFF[0])

    async def _run_arq(self, pool: ArqRedis) -> None:
        """Run arq on `pool` until asked to stop (returns) or Redis fails (raises)."""
        worker = self._arq_worker(pool)
        self._redis_lost.clear()
        main = asyncio.create_task(worker.main(), name="arq")
        watchers = [
            asyncio.create_task(self.stop.wait()),
            asyncio.create_task(self._redis_lost.wait()),
        ]
        self.arq_running = True
        try:
            await asyncio.wait([main, *watchers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.arq_running = False
            for task in (main, *watchers):
                task.cancel()
            await asyncio.gather(main, *watchers, return_exceptions=True)
            running = [task for task in worker.tasks.values() if not task.done()]
            if self.stop.is_set():
                # Stopping: the jobs see `stop` and end after the messages on the wire; what
                # is still running when GRACE runs out is cut off.
                if running:
                    await asyncio.wait(running, timeout=self._grace_left())
                    for task in running:
                        task.cancel()
                    await asyncio.gather(*running, return_exceptions=True)
                await _close(pool)
            else:
                # Redis lost: delivery needs only the database and SMTP, so the running jobs
                # finish in their own time while arq waits for Redis; a stop still ends them.
                drain = asyncio.create_task(_drain(running, pool), name="arq-drain")
                self._draining.add(drain)
                drain.add_done_callback(self._draining.discard)
        failure = None if main.cancelled() else main.exception()
        if failure is not None:
            raise failure
        if self._redis_lost.is_set() and not self.stop.is_set():
            raise RedisLost("no answer to PING")

    def _arq_worker(self, pool: ArqRedis) -> Worker:
        # CronJob remembers its next run; each arq start gets fresh copies, so the sweep runs
        # at once on every (re)start and catches up on whatever waited.
        crons = [copy.copy(job) for job in WorkerSettings.cron_jobs]
        for job in crons:
            job.next_run = None
        return create_worker(
            cast(Any, WorkerSettings),
            redis_pool=pool,
            redis_settings=None,
            cron_jobs=crons,
            handle_signals=False,  # this process owns SIGTERM and SIGINT
            on_startup=None,  # the services are this process's, built once
            on_shutdown=None,
            ctx=self.ctx,
        )

    async def _outbox_timer(self) -> None:
        """Every DELIVER_EVERY seconds deliver what is due (retries, a crashed worker's
        claims, mail whose nudge was lost); while arq is down, plan reminders too."""
        next_plan = 0.0
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            try:
                if not self.arq_running and loop.time() >= next_plan:
                    await plan_mail(self.ctx)
                    next_plan = loop.time() + SWEEP_EVERY
                await deliver_mail(self.ctx)
            except Exception as exc:  # the database away: try again on the next tick
                log.warning("outbox delivery failed (%s); trying again shortly", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=DELIVER_EVERY)

    async def _heartbeat(self) -> None:
        redis_url = self.services.settings.redis_url
        client = (
            aioredis.Redis.from_url(
                redis_url,
                socket_connect_timeout=REDIS_PING_TIMEOUT,
                socket_timeout=REDIS_PING_TIMEOUT,
            )
            if redis_url
            else None
        )
        try:
            while not self.stop.is_set():
                if client is not None:
                    self.redis_ok = await _pings(client)
                    if not self.redis_ok and self.arq_running:
                        self._redis_lost.set()
                try:
                    await record_heartbeat(
                        self.services,
                        worker=self.name,
                        started_at=self.started_at,
                        redis_ok=self.redis_ok or client is None,
                    )
                except Exception as exc:
                    log.warning("could not record the heartbeat (%s)", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=HEARTBEAT_EVERY)
        finally:
            if client is not None:
                await client.aclose()


async def _drain(running: list[asyncio.Task[Any]], pool: ArqRedis) -> None:
    """Wait for a lost arq's jobs, then close its pool (their ends still write to it)."""
    try:
        await asyncio.gather(*running, return_exceptions=True)
    finally:
        await _close(pool)


async def _close(pool: ArqRedis) -> None:
    with contextlib.suppress(Exception):  # arq's own close() would need Redis
        await pool.aclose()


async def _pings(client: aioredis.Redis) -> bool:
    try:
        async with asyncio.timeout(REDIS_PING_TIMEOUT):
            await client.ping()
    except Exception:
        return False
    return True


def serve_metrics(settings: Settings, port: int) -> Callable[[], None]:
    """Serve this worker's `/metrics` on `port` (WORKER_METRICS_PORT), under METRICS_TOKEN,
    from a thread of its own, so a busy delivery run never delays a scrape; returns how to
    stop it. uvicorn off the main thread leaves this process's signal handlers alone."""
    server = uvicorn.Server(
        uvicorn.Config(
            metrics.worker_app(settings),
            host="0.0.0.0",  # noqa: S104  (scraped from elsewhere; the token guards it)
            port=port,
            lifespan="off",
            access_log=False,
            log_config=None,  # keep LOG_FORMAT's handlers
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="worker-metrics", daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    return stop


async def serve(settings: Settings) -> None:
    """Run a worker until SIGTERM or SIGINT."""
    services = Services.build(settings)
    process = WorkerProcess(services)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, process.stop.set)
    port = settings.worker_metrics_port
    stop_metrics = serve_metrics(settings, port) if port else None
    try:
        await process.run()
    finally:
        await services.close()
        if stop_metrics is not None:
            stop_metrics()
    log.info("worker stopped")


def main() -> int:
    try:
        settings = Settings.from_environ(os.environ)
    except ConfigurationError as exc:
        print(f"lunchkafe worker: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
