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
"""

from __future__ import annotations

import logging
from typing import Any

from arq.connections import ArqRedis

from workers.jobs import deliver_mail

log = logging.getLogger("lunchkafe.workers")

DELIVER_JOB = "deliver_mail"
ROUND_KEY = "lunchkafe:delivery-round"
JOB_ID_PREFIX = "deliver-round:"


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
