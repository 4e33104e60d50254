"""Prometheus metrics: what each process counts, and the one way they are read.

Counted at the edges, never inside a domain rule: the request log (every answer, by route
template, so a token in a path never becomes a label), the booking handlers (by outcome), the
outbox (a promotion's invite, counted once its transaction commits), delivery (each message's
SMTP answer), the jobs, and the public feeds' cache. What lives in the database (outbox rows by
status, the worker's heartbeat) is read at scrape time by the caller and handed to
`exposition` as gauges, so every process answers the same for it.

`/metrics` is off (404) unless METRICS_TOKEN is set, and then answered only to
`Authorization: Bearer <METRICS_TOKEN>` (RFC 6750 §2.1), compared in constant time; 401
otherwise. With PROMETHEUS_MULTIPROC_DIR set (prometheus-client's multiprocess mode, for
uvicorn's several workers and a worker process on the same host) the answer sums every
process that writes to the directory; without it, the process's own.
"""

from __future__ import annotations

import hmac
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from foundation.settings import Settings

# Anything else a client sends (a made-up verb) shares one label, as unknown paths do.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; a page answers in milliseconds, a large feed built afresh in about two seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "lunchkafe_http_requests",
    "HTTP answers by method, route template (<unmatched> for any unknown path) and status",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "lunchkafe_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
BOOKINGS = Counter(
    "lunchkafe_bookings",
    "Booking attempts by outcome: confirmed, waitlisted, repeated (the address already had "
    "one), closed (not open for booking), invalid (the form or body refused), rate_limited, "
    "spam (the honeypot filled), not_found, refused (any other refusal); a series booking "
    "counts once per event",
    ["outcome"],
)
PROMOTIONS = Counter(
    "lunchkafe_promotions", "People moved up from a waitlist to a seat (committed)"
)
MAIL_DELIVERIES = Counter(
    "lunchkafe_mail_deliveries",
    "Messages handed to SMTP (or the local mailbox) by outcome: sent, transient (4xx or no "
    "answer: retried later), permanent (5xx: failed for good)",
    ["outcome"],
)
MAIL_SEND_DURATION = Histogram(
    "lunchkafe_mail_send_seconds",
    "Seconds one message took from handing it to the server to its answer, by outcome",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
JOB_RUNS = Counter(
    "lunchkafe_job_runs",
    "Background job runs (arq's, or the in-process runner's) by job and outcome: ok, error",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "lunchkafe_job_duration_seconds",
    "Seconds a background job ran, by job",
    ["job"],
    buckets=(0.01, 0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0),
)
FEED_CACHE = Counter(
    "lunchkafe_feed_cache_lookups",
    "Public calendar feed answers: hit (from the cache), miss (built), stale (the last copy, "
    "served while the database is unreachable)",
    ["result"],
)

# The outcome names of an SMTP answer as mail/smtp.py classifies it.
_DELIVERY_OUTCOMES = {"sent": "sent", "retry": "transient", "failed": "permanent"}
_ON_COMMIT = "metrics_on_commit"


def request_answered(method: str, route: str, status: int, seconds: float) -> None:
    """Count one HTTP answer; `route` is the route template, never the concrete path."""
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def booking_outcome(*, created: bool, confirmed: bool) -> str:
    """The outcome label of a booking that went through: confirmed, waitlisted or repeated."""
    if not created:
        return "repeated"
    return "confirmed" if confirmed else "waitlisted"


def booked(outcome: str, count: int = 1) -> None:
    BOOKINGS.labels(outcome).inc(count)


# A refusal's DomainError code → its outcome label.
_REFUSALS = {
    "rate_limited": "rate_limited",
    "not_open": "closed",
    "invalid": "invalid",
    "not_found": "not_found",
}


def booking_refused(code: str) -> None:
    """Count a booking refused with a DomainError of `code`."""
    BOOKINGS.labels(_REFUSALS.get(code, "refused")).inc()


def promoted_on_commit(session: AsyncSession) -> None:
    """Count a promotion once the session's transaction commits (nothing on a rollback)."""
    tally: Tally[str] = session.info.setdefault(_ON_COMMIT, Tally())
    tally["promotions"] += 1


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    tally: Tally[str] | None = session.info.pop(_ON_COMMIT, None)
    if tally:
        PROMOTIONS.inc(tally["promotions"])


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


def mail_answered(status: str, seconds: float) -> None:
    """Count one SMTP answer; `status` is mail.smtp's: sent, retry or failed."""
    outcome = _DELIVERY_OUTCOMES.get(status, "permanent")
    MAIL_DELIVERIES.labels(outcome).inc()
    MAIL_SEND_DURATION.labels(outcome).observe(seconds)


@asynccontextmanager
async def job_run(job: str) -> AsyncIterator[None]:
    """Count a run of `job`, ok or error (the error goes on to the caller). A run cut off by
    a stopping process (cancelled) counts as neither: it is no fault worth an alert."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        JOB_RUNS.labels(job, "error").inc()
        raise
    else:
        JOB_RUNS.labels(job, "ok").inc()
    finally:
        JOB_DURATION.labels(job).observe(time.perf_counter() - started)


def feed_answered(result: str) -> None:
    """hit, miss or stale (see FEED_CACHE)."""
    FEED_CACHE.labels(result).inc()


def gauge(name: str, documentation: str, values: Mapping[str, float], label: str) -> Metric:
    """A gauge read from the database at scrape time, one sample per `label` value."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value_of_label, value in sorted(values.items()):
        family.add_metric([value_of_label], value)
    return family


def single(name: str, documentation: str, value: float) -> Metric:
    return GaugeMetricFamily(name, documentation, value=value)


class _Fixed(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def exposition(settings: Settings, extra: Iterable[Metric] = ()) -> bytes:
    """The text format (Prometheus 0.0.4): this process's metrics, or every process's in
    PROMETHEUS_MULTIPROC_DIR, then the gauges in `extra`."""
    if settings.metrics_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.metrics_dir)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(prometheus_client.REGISTRY)
    extra = list(extra)
    if extra:
        registry = CollectorRegistry()
        registry.register(_Fixed(extra))
        body += generate_latest(registry)
    return body


def refusal(settings: Settings, authorization: str | None) -> Response | None:
    """None when the request may read the metrics; else the answer: 404 while METRICS_TOKEN
    is not set (the endpoint does not exist), 401 without the right bearer token."""
    token = settings.metrics_token
    if not token:
        return Response("Not Found\n", status_code=404, media_type="text/plain")
    scheme, _, given = (authorization or "").strip().partition(" ")
    # Constant time over the bytes: how long a refusal takes says nothing of the token.
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return Response(
        "Unauthorized\n",
        status_code=401,
        media_type="text/plain",
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


def answer(settings: Settings, extra: Iterable[Metric] = ()) -> Response:
    return Response(
        exposition(settings, extra),
        media_type=prometheus_client.CONTENT_TYPE_LATEST,
        headers={"cache-control": "no-store"},
    )


def worker_app(settings: Settings) -> ASGIApp:
    """The worker's own `/metrics` (WORKER_METRICS_PORT), under the same token rule."""
    from starlette.applications import Starlette

    async def metrics(request: Request) -> Response:
        return refusal(settings, request.headers.get("authorization")) or answer(settings)

    return Starlette(routes=[Route("/metrics", metrics)])
