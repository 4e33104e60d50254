"""`/metrics` as an operator's Prometheus scrapes it: off without METRICS_TOKEN, only to its
bearer, and counting what happened (bookings by outcome, promotions, answers by route
template, the feed cache, outbox rows, deliveries by SMTP class, job runs)."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from foundation import metrics
from foundation.services import Services
from foundation.settings import ConfigurationError
from lunchkafe.app import create_app
from tests.conftest import Mail, MailFactory, SmtpServer, make_settings
from tests.factories import book, mailed_manage_token, make_event
from tests.signing_in import bearer
from workers.jobs import deliver_mail, job_context

TOKEN = "metrics-token-for-tests-0123456789"
SCRAPE = {"authorization": f"Bearer {TOKEN}"}
SETTINGS = make_settings(
    "sqlite+aiosqlite:///unused.db", Path(tempfile.gettempdir()), METRICS_TOKEN=TOKEN
)


@pytest.fixture
async def site(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app with METRICS_TOKEN set."""
    settings = dataclasses.replace(services.settings, metrics_token=TOKEN)
    app = create_app(settings, dataclasses.replace(services, settings=settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def scrape(
    site: httpx.AsyncClient,
) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """The body and every sample by (name, labels)."""
    answer = await site.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    return answer.text, samples


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_off_without_a_token(client: httpx.AsyncClient) -> None:
    answer = await client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 404


async def test_only_its_bearer_reads_them(
    site: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for headers in ({}, {"authorization": "Bearer wrong-token-0123456789"}, bearer("x" * 20)):
        answer = await site.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert "lunchkafe_" not in answer.text
    assert (await site.get("/metrics", headers=SCRAPE)).status_code == 200
    assert TOKEN not in caplog.text


SCHEMES = st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token", ""])
GIVEN = st.one_of(st.just(TOKEN), st.just(TOKEN[:-1]), st.just(TOKEN + "x"), st.text(max_size=40))


@given(
    header=st.one_of(
        st.none(),
        st.text(max_size=60),
        st.builds(lambda scheme, given: f"{scheme} {given}", SCHEMES, GIVEN),
    )
)
def test_nothing_but_the_bearer_token_is_let_in(header: str | None) -> None:
    """RFC 6750 §2.1: `Bearer` (any case) and the token; anything else is a 401."""
    refused = metrics.refusal(SETTINGS, header)
    scheme, _, given = (header or "").strip().partition(" ")
    assert (refused is None) == (scheme.lower() == "bearer" and given.strip() == TOKEN)
    if refused is not None:
        assert refused.status_code == 401


async def test_a_booking_is_counted_by_outcome_and_paths_by_their_template(
    site: httpx.AsyncClient, services: Services
) -> None:
    event = await make_event(services, capacity=1)
    _, before = await scrape(site)
    path = f"/api/v1/events/{event.id}/registrations"
    for n in (1, 2, 2):  # a seat, a place in line, the same address again
        body = {"name": f"Person {n}", "email": f"person{n}@kommun.example.se", "consent": True}
        assert (await site.post(path, json=body)).status_code == 202
    token = await mailed_manage_token(services, event.id, "person1@kommun.example.se")
    assert (await site.get(f"/manage/{token}")).status_code == 200
    assert (await site.get("/no/such/page-with-a-secret")).status_code == 404
    text, after = await scrape(site)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("lunchkafe_bookings_total", outcome="confirmed") == 1
    assert grew("lunchkafe_bookings_total", outcome="waitlisted") == 1
    assert grew("lunchkafe_bookings_total", outcome="repeated") == 1
    # The route's template is the label: the token in the path is nowhere in the answer.
    manage = {"method": "GET", "route": "/manage/{token}", "status": "200"}
    assert grew("lunchkafe_http_requests_total", **manage) == 1
    unknown = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert grew("lunchkafe_http_requests_total", **unknown) == 1
    assert token not in text
    assert "page-with-a-secret" not in text
    # The database's own count, whichever process answers: confirmation and waitlist mail.
    assert value(after, "lunchkafe_outbox_messages", status="pending") == 2
    assert value(after, "lunchkafe_database_up") == 1

    # The seat freed passes to the second in line: one promotion, counted once committed.
    assert (await site.delete(f"/api/v1/manage/{token}")).status_code == 200
    assert (await site.get("/calendar.ics")).status_code == 200
    assert (await site.get("/calendar.ics")).status_code == 200
    _, later = await scrape(site)
    assert (
        value(later, "lunchkafe_promotions_total") - value(after, "lunchkafe_promotions_total") == 1
    )
    feed = "lunchkafe_feed_cache_lookups_total"
    assert value(later, feed, result="miss") - value(after, feed, result="miss") == 1
    assert value(later, feed, result="hit") - value(after, feed, result="hit") == 1


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)  # counting is the same
async def test_deliveries_are_counted_by_smtp_class_and_jobs_by_outcome(
    services: Services, mail_factory: MailFactory, start_server: Callable[..., SmtpServer]
) -> None:
    # 451 (try later) for the first message, 550 (no such mailbox) for the second, then 250.
    server = start_server(data_replies=["451 4.3.0 Try again later", "550 5.1.1 No such mailbox"])
    reader: Mail = mail_factory(server)
    event = await make_event(services)
    for n in (1, 2, 3):
        await book(services, event.id, n)
    kinds = ("sent", "transient", "permanent")
    before = {k: sample("lunchkafe_mail_deliveries_total", outcome=k) for k in kinds}
    runs = sample("lunchkafe_job_runs_total", job="deliver_mail", outcome="ok")
    durations = sample("lunchkafe_mail_send_seconds_count", outcome="sent")

    await deliver_mail(job_context(reader.services))

    for k in kinds:
        assert sample("lunchkafe_mail_deliveries_total", outcome=k) - before[k] == 1, k
    assert sample("lunchkafe_job_runs_total", job="deliver_mail", outcome="ok") - runs == 1
    assert sample("lunchkafe_mail_send_seconds_count", outcome="sent") - durations == 1


async def test_a_failing_job_run_is_counted_as_an_error(tmp_path: Path) -> None:
    built = Services.build(
        make_settings("sqlite+aiosqlite:////nonexistent-directory/lunchkafe.db", tmp_path)
    )
    errors = sample("lunchkafe_job_runs_total", job="deliver_mail", outcome="error")
    try:
        with pytest.raises(Exception, match="unable to open database"):
            await deliver_mail(job_context(built))
    finally:
        await built.close()
    assert sample("lunchkafe_job_runs_total", job="deliver_mail", outcome="error") - errors == 1


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"METRICS_TOKEN": "short"}, "at least 16"),
        ({"METRICS_TOKEN": "sixteen chars but spaces"}, "no spaces"),
        ({"WORKER_METRICS_PORT": "9100"}, "needs METRICS_TOKEN"),
        ({"METRICS_TOKEN": TOKEN, "WORKER_METRICS_PORT": "70000"}, "between 1 and 65535"),
        ({"PROMETHEUS_MULTIPROC_DIR": "/nonexistent-directory"}, "not a directory"),
    ],
)
def test_metrics_settings_that_cannot_work_stop_start_up(
    environ: dict[str, str], says: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        make_settings("sqlite+aiosqlite:///unused.db", tmp_path, **environ)
