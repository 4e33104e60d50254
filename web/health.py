"""Liveness and readiness: `/healthz` (the process answers) and `/readyz` (what works now).

Both answer JSON with the same report: the database, Redis (when REDIS_URL is set), the mail
waiting in the outbox, and when a delivery worker was last seen (its heartbeat lives in the
database, so it outlives Redis). `/readyz` answers 503 when the database is unreachable
(status "unavailable"), because without it nothing can be served, and, with REDIS_URL set,
when Redis does not answer ("redis_unreachable") or no worker has beaten for two minutes
("worker_stopped"): pages still answer, but the service is not whole. A degraded state that
still serves (mail waiting, a worker late) answers 200 and says what is wrong. A load
balancer should route by `/healthz` (or the database alone): Redis or a worker being away
is no reason to take every web process out (README: Operating it).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from foundation.services import services
from notices.readiness import check

# Liveness probes commonly give up after one second (readiness may wait READINESS_TIMEOUT).
LIVENESS_TIMEOUT = 0.5


async def healthz(request: Request) -> Response:
    """Liveness: 200 whenever the process answers, with the report for whoever reads it."""
    report = await check(services(request), LIVENESS_TIMEOUT)
    return JSONResponse(report.as_json(), headers={"cache-control": "no-store"})


async def readyz(request: Request) -> Response:
    """Readiness: 503 when the database is unreachable or (with REDIS_URL) Redis does not
    answer or the worker has stopped, else 200; the report either way."""
    report = await check(services(request))
    return JSONResponse(
        report.as_json(),
        status_code=200 if report.ready else 503,
        headers={"cache-control": "no-store"},
    )


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
