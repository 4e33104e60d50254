"""How the worker's counts reach Prometheus (README: Operating it): its own `/metrics` on
WORKER_METRICS_PORT under the same token rule, or, on one host, a PROMETHEUS_MULTIPROC_DIR
whose files every process writes and whose sum `/metrics` answers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_settings
from tests.ports import free_port
from tests.processes import ROOT
from workers.run import serve_metrics

TOKEN = "worker-metrics-token-0123456789"


def test_the_worker_port_answers_only_to_the_token(tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        tmp_path,
        METRICS_TOKEN=TOKEN,
        WORKER_METRICS_PORT=str(port),
    )
    stop = serve_metrics(settings, port)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        for _ in range(100):
            try:
                refused = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("the worker's metrics port did not open")
        assert refused.status_code == 401
        answer = httpx.get(url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=2)
        assert answer.status_code == 200
        assert "lunchkafe_job_runs_total" in answer.text
    finally:
        stop()


def test_counts_of_several_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "METRICS_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
        "SECRET_KEY": "x",
        "VAR_DIR": str(tmp_path),
    }
    # Each process counts a booking and a delivery; the second then answers the scrape, as
    # one uvicorn worker answers for both (or for a worker process on the same host).
    count_and_maybe_read = textwrap.dedent(
        """
        import os, sys
        from foundation import metrics
        from foundation.settings import Settings
        metrics.booked("confirmed")
        metrics.mail_answered("sent", 0.01)
        if sys.argv[1] == "read":
            sys.stdout.write(metrics.exposition(Settings.from_environ(os.environ)).decode())
        """
    )
    for role in ("count", "read"):
        out = subprocess.run(
            [sys.executable, "-c", count_and_maybe_read, role],
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
        ).stdout.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
    }
    assert samples[("lunchkafe_bookings_total", (("outcome", "confirmed"),))] == 2
    assert samples[("lunchkafe_mail_deliveries_total", (("outcome", "sent"),))] == 2
