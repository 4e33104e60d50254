"""Nudging the mail worker through arq so that no committed outbox row waits for the sweep.

After a commit that wrote outbox rows the web process enqueues the `deliver_mail` job. arq
refuses a job whose id exists, queued or running; that refusal is what folds a burst of
bookings into one job. But a running job may already have made its last claim, and a row
committed after that claim is not its to send: a nudge refused then left the row to the next
booking or the minute sweep (issue 10 item 7, when the id was fixed per tenth of a second).

So the id is the delivery *round*, a counter in Redis that every nudged job raises before it
claims anything (`deliver_nudged`), and a nudge reads the round after its commit and enqueues
`deliver-round:<round>` (`nudge_delivery`):

- accepted: a new job, whose claims come after the read, so after the commit;
- refused: job `deliver-round:<round>` exists. The round only grows, and was at least
  `round` when that job was enqueued, so once the job raises it, it is above `round` for
  good; the nudge read it at exactly `round`, so the read came before that raise. The job's
  claims follow its raise, so they follow the read and the commit: the row is claimed.

Either way a job claims after the commit, and at most one job per round waits in the queue
however many bookings arrive. A nudge must start after the commit it covers; a process may
run fewer nudges than commits (one for several commits) as long as that holds for each.

If Redis loses the counter or a raise fails, at worst a nudge is refused that should not have
been; the worker's outbox timer (a few seconds) and the minute sweep still deliver the row.

Under a rush a web process would still pay a nudge (two Redis round trips and arq's three)
per booking, for jobs that fold into one. So a process nudges at most once per
`NUDGE_EVERY` (`CoalescedNudge`): a commit asks for a nudge without waiting for it; a nudge
already asked for and not yet begun covers it (it will read the round after this commit),
else one is asked for, to begin as soon as the interval since the last one has passed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from arq.connections import ArqRedis

from workers.jobs import deliver_mail

log = logging.getLogger("lunchkafe.workers")

DELIVER_JOB = "deliver_mail"
ROUND_KEY = "lunchkafe:delivery-round"
JOB_ID_PREFIX = "deliver-round:"
NUDGE_EVERY = 0.1  # seconds: at most one nudge per process in this, however many commits


def job_id(round_: int) -> str:
    """The arq job id of a delivery round, e.g. `deliver-round:42`."""
    return f"{JOB_ID_PREFIX}{round_}"


async def nudge_delivery(redis: ArqRedis) -> None:
    """Make sure a delivery job will claim after now; call it after the commit.

    One round trip to Redis before arq's enqueue; raises what redis-py raises when Redis is
    away (the caller logs it: the row is committed, and the worker's timer and sweep find it).
    """
    current = int(await redis.get(ROUND_KEY) or 0)
    # None back means the round's job is queued or running and has not raised it yet: it
    # claims after this read (see the module's docstring).
    await redis.enqueue_job(DELIVER_JOB, _job_id=job_id(current))


async def deliver_nudged(ctx: dict[str, Any]) -> dict[str, int]:
    """arq's `deliver_mail` job: open the next round, then send every due outbox row.

    `ctx["redis"]` is the worker's arq pool. The raise comes before any claim, so a nudge
    refused by this job's id is covered by this job (see the module's docstring).
    """
    redis: ArqRedis = ctx["redis"]
    try:
        await redis.incr(ROUND_KEY)
    except Exception as exc:  # Redis away: deliver anyway; the outbox timer covers the rest
        log.warning("could not open a delivery round in Redis (%s)", type(exc).__name__)
    return await deliver_mail(ctx)


class CoalescedNudge:
    """At most one `nudge()` begun per `every` seconds, each after every commit it covers.

    `ask()` after a commit returns at once. A nudge asked for and not yet begun will begin
    (and read the round) after that commit, so it covers it; otherwise a new one is asked
    for, to begin `every` seconds after the last began (at once when that has passed). The
    caller logs its own failures: `nudge` should not raise. `flush()` waits for what was
    asked, for a process that stops.
    """

    def __init__(self, nudge: Callable[[], Awaitable[None]], every: float = NUDGE_EVERY) -> None:
        self._nudge = nudge
        self._every = every
        self._last_began = -every
        self._waiting = False  # a nudge is asked for and has not begun
        self._tasks: set[asyncio.Task[None]] = set()
        self.begun = 0  # how many nudges began, for tests and operators

    async def ask(self) -> None:
        """Ask for a nudge that begins after now (the commit just made)."""
        if self._waiting:
            return
        self._waiting = True
        task = asyncio.create_task(self._run(), name="lunchkafe-nudge")
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        delay = self._last_began + self._every - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        # From here a commit needs a nudge of its own: this one may read the round before it.
        self._waiting = False
        self._last_began = time.monotonic()
        self.begun += 1
        await self._nudge()

    async def flush(self) -> None:
        """Wait for every nudge asked for to end."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
