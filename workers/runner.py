"""Choosing how background work runs: arq on Redis, or in-process without REDIS_URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lunchkafe.services import Services

Stop = Callable[[], Awaitable[None]]


async def start_job_runner(services: Services) -> Stop:
    """Start whatever delivers background work for this process; returns how to stop it."""

    async def stop() -> None:
        return None

    return stop
