"""Prompt mail while the worker is busy (issue 10 item 7).

A real arq worker, built from the production WorkerSettings, runs on a redis-server of the
test's own and delivers through an SMTP server that takes 150 ms over each message. Bookings
come in bursts whose members land at every point of a delivery run: before its claim, just
after it, while it sends, as it ends. Each confirmation must reach the server within a few
seconds of its commit. The worker runs without its minute sweep (the safety net for a lost
nudge), so only the nudges deliver: a nudge refused while a run is past its last claim shows
as a confirmation that does not come.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import create_worker

from foundation.services import Services
from registrations.booking import book_now
from tests.conftest import Mail, MailFactory, SmtpServer
from tests.factories import address, book, make_event, person
from tests.processes import RedisServer, eventually
from workers.jobs import job_context
from workers.nudges import (
    NUDGE_EVERY,
    CoalescedNudge,
    deliver_nudged,
    job_id,
    nudge_delivery,
)
from workers.runner import start_job_runner
from workers.settings import WorkerSettings

# arq 0.28's Worker.close() calls redis-py's deprecated close(); not ours to change.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

RELAY_SECONDS = 0.15  # the SMTP server's time over each message's DATA
PROMPT = 3.0  # seconds from a booking's commit to its confirmation at the server, at most
ROUNDS = 22
RUSH = 40  # bookings at once


@pytest.fixture
def busy_relay(
    mail_factory: MailFactory, start_server: Callable[..., SmtpServer], own_redis: RedisServer
) -> Mail:
    own_redis.start()
    return mail_factory(start_server(data_delay=RELAY_SECONDS), REDIS_URL=own_redis.url)


@contextlib.asynccontextmanager
async def arq_worker(services: Services) -> AsyncIterator[None]:
    """The production WorkerSettings running until the block ends, without the cron sweep."""
    assert services.settings.redis_url is not None
    worker = create_worker(
        cast(Any, WorkerSettings),  # arq types settings as its own base class
        redis_settings=RedisSettings.from_dsn(services.settings.redis_url),
        cron_jobs=[],
        handle_signals=False,
        # on_startup builds the worker's own Services (engine, pool) from these settings.
        ctx={"settings": services.settings},
    )
    running = asyncio.create_task(worker.main())
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        # A job still running when the worker is cancelled ends cancelled inside close().
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()


async def test_every_confirmation_reaches_the_server_promptly_however_bookings_meet_runs(
    busy_relay: Mail,
) -> None:
    services = busy_relay.services
    recorder = busy_relay.server.recorder
    event = await make_event(services, capacity=200)
    rng = random.Random(10_7)  # a fixed schedule, the same on every run
    committed: dict[str, float] = {}  # address -> monotonic time just before its booking
    arrived: dict[str, float] = {}  # address -> monotonic time the server had its message

    def look() -> None:
        for envelope in list(recorder.messages):
            for to in envelope.rcpt_tos:
                arrived.setdefault(to.lower(), time.monotonic())

    async def delivered(burst: list[str]) -> None:
        async def all_there() -> bool:
            look()
            return all(a in arrived for a in burst)

        await eventually(
            all_there,
            within=committed[burst[-1]] + PROMPT - time.monotonic(),
            what=f"confirmations of {burst} at the server within {PROMPT} s of the booking",
            every=0.005,
        )

    stop = await start_job_runner(services)  # the web process's nudges
    n = 0
    try:
        async with arq_worker(services):
            for _ in range(ROUNDS):
                burst: list[str] = []
                for position in range(rng.choice((2, 2, 2, 3))):
                    if position:
                        # Mostly while the run the first booking started is claiming (the
                        # booking itself takes tens of ms); else anywhere up to past the send
                        # of one message.
                        short = rng.random() < 0.75
                        await asyncio.sleep(rng.uniform(0, 0.035 if short else 0.3))
                    n += 1
                    burst.append(address(n).lower())
                    committed[burst[-1]] = time.monotonic()
                    assert (await book(services, event.id, n)).confirmed
                # Quiet until this burst is delivered (a lost nudge is not rescued by a later
                # booking), then a pause that may end just as the last run ends.
                await delivered(burst)
                await asyncio.sleep(rng.uniform(0.0, 0.2))
    finally:
        await stop()
    waits = {a: arrived[a] - committed[a] for a in committed}
    assert max(waits.values()) < PROMPT, waits
    assert len(recorder.messages) == n  # each confirmation once


async def test_nudges_fold_into_one_queued_job_per_round(
    services: Services, own_redis: RedisServer
) -> None:
    own_redis.start()
    pool = await create_pool(RedisSettings.from_dsn(own_redis.url))
    try:
        for _ in range(5):  # a burst before any worker looks
            await nudge_delivery(pool)
        assert await pool.zrange(pool.default_queue_name, 0, -1) == [job_id(0).encode()]

        # That job starts (its id still held, as while arq runs it) and claims: a nudge now
        # may come after its last claim, so it queues one job more, and only one.
        assert await deliver_nudged({**job_context(services), "redis": pool}) == {
            "sent": 0,
            "retried": 0,
            "failed": 0,
            "skipped": 0,
        }
        for _ in range(5):
            await nudge_delivery(pool)
        queued = await pool.zrange(pool.default_queue_name, 0, -1)
        assert sorted(queued) == [job_id(0).encode(), job_id(1).encode()]
    finally:
        await pool.aclose()


async def test_a_rush_of_bookings_nudges_a_few_times_and_every_confirmation_arrives(
    mail_factory: MailFactory, start_server: Callable[..., SmtpServer], own_redis: RedisServer
) -> None:
    """Issue 11: a rush commits far more bookings than the process nudges (at most one nudge
    per NUDGE_EVERY), and each confirmation reaches the server once. (That each nudge comes
    after the commits it covers is the test above, through the same coalesced nudges.)"""
    own_redis.start()
    relay = mail_factory(start_server(), REDIS_URL=own_redis.url)
    services = relay.services
    event = await make_event(services, capacity=200)
    stop = await start_job_runner(services)
    (ask,) = services.after_commit
    coalesced = getattr(ask, "__self__", None)
    assert isinstance(coalesced, CoalescedNudge)
    try:
        async with arq_worker(services):
            began = time.monotonic()
            # Through the hot path, as the booking form and the API book.
            results = await asyncio.gather(
                *(book_now(services, event_id=event.id, attendee=person(n)) for n in range(RUSH))
            )
            took = time.monotonic() - began
            assert all(r.confirmed for r in results)

            async def all_there() -> bool:
                return len(relay.server.recorder.messages) >= RUSH

            # Composing each mail is the slow part on a loaded machine, not the nudges.
            await eventually(all_there, within=30, what=f"{RUSH} confirmations")
    finally:
        await stop()
    assert coalesced.begun <= took / NUDGE_EVERY + 2, (coalesced.begun, took)
    assert coalesced.begun < RUSH
    received = [to.lower() for e in relay.server.recorder.messages for to in e.rcpt_tos]
    assert sorted(received) == sorted(address(n).lower() for n in range(RUSH))


async def test_each_commit_is_followed_by_a_nudge_that_begins_after_it() -> None:
    """The wake-up rule for coalesced nudges (workers/nudges.py): whenever a commit asks, a
    nudge begins after that moment, and nudges begin at least `every` apart."""
    every = 0.02
    begins: list[float] = []

    async def nudge() -> None:
        begins.append(time.monotonic())
        await asyncio.sleep(rng.uniform(0, 0.03))  # a slow Redis: nudges may overlap

    rng = random.Random(11_2)
    coalesced = CoalescedNudge(nudge, every=every)
    asked: list[float] = []
    for _ in range(120):
        await asyncio.sleep(rng.choice((0, 0, 0.001, 0.005, 0.02, 0.05)))
        asked.append(time.monotonic())
        await coalesced.ask()
    await coalesced.flush()
    assert all(any(b >= a for b in begins) for a in asked)
    assert all(later - earlier >= every * 0.99 for earlier, later in itertools.pairwise(begins))
    assert len(begins) < len(asked)
