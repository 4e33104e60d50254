"""`/metrics` for Prometheus: off (404) without METRICS_TOKEN, else only to its bearer.

The process's counters (or every process's, in multiprocess mode; foundation/metrics.py),
then gauges read from the database now, so any web process answers the same for them: outbox
rows by status, how long the oldest due mail has waited, and the last worker heartbeat's age.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation import metrics
from foundation.services import services
from notices.readiness import gauges

# Short: a scrape (every 15 s or so) must not queue behind a database that is struggling.
SCRAPE_DB_TIMEOUT = 1.0


async def scrape(request: Request) -> Response:
    app = services(request)
    refused = metrics.refusal(app.settings, request.headers.get("authorization"))
    if refused is not None:
        return refused
    now = await gauges(app, SCRAPE_DB_TIMEOUT)
    extra = [
        metrics.single(
            "lunchkafe_database_up",
            "1 when the database answered this scrape, else 0",
            0 if now is None else 1,
        )
    ]
    if now is not None:
        extra.append(
            metrics.gauge(
                "lunchkafe_outbox_messages", "Outbox rows by status, now", now.outbox, "status"
            )
        )
        extra.append(
            metrics.single(
                "lunchkafe_outbox_oldest_due_seconds",
                "Seconds the longest-waiting due, unsent message has waited (0: none waits)",
                now.oldest_due_seconds,
            )
        )
        if now.worker_seen_seconds_ago is not None:
            extra.append(
                metrics.single(
                    "lunchkafe_worker_heartbeat_age_seconds",
                    "Seconds since any mail worker last wrote its heartbeat",
                    now.worker_seen_seconds_ago,
                )
            )
    return metrics.answer(app.settings, extra)


routes = [Route("/metrics", scrape, name="metrics")]
