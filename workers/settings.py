"""arq's WorkerSettings: run inside the worker process (`python -m workers.run`, which
rides out Redis outages), or alone with `arq workers.settings.WorkerSettings`."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings

from foundation.services import Services
from foundation.settings import ConfigurationError, Settings
from workers.jobs import job_context, sweep
from workers.nudges import DELIVER_JOB, deliver_nudged


async def startup(ctx: dict[str, Any]) -> None:
    try:
        settings = ctx.get("settings") or Settings.from_environ(os.environ)
    except ConfigurationError as exc:
        # `arq workers.settings.WorkerSettings` reads the environment here: one line naming
        # the setting, as the other entry points print it, not a traceback through arq.
        raise SystemExit(f"lunchkafe worker: configuration error: {exc}") from None
    services = Services.build(settings)
    ctx.update(job_context(services))


async def shutdown(ctx: dict[str, Any]) -> None:
    services: Services | None = ctx.get("services")
    if services is not None:
        await services.close()


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL must be set to run the arq worker")
    return RedisSettings.from_dsn(settings.redis_url)


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        func(deliver_nudged, name=DELIVER_JOB, keep_result=0, max_tries=3)
    ]
    # run_at_startup: a worker that was down catches up at once instead of in a minute.
    cron_jobs: ClassVar[list[Any]] = [
        cron(sweep, second=0, run_at_startup=True, unique=True, timeout=300)
    ]
    on_startup = startup
    on_shutdown = shutdown
    # arq's default 0.5 s poll caps a burst at ~200 jobs/s here; deliveries are batched,
    # so a short poll delay only shortens how long a confirmation waits.
    poll_delay = 0.05
    max_jobs = 4
    keep_result = 0
    redis_settings = (
        RedisSettings.from_dsn(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else None
    )
