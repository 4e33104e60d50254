"""Logs an operator can read and a pipeline can parse, holding no token and no password.

Real requests go through the real app with logging configured as a process configures it
(foundation.logs), into a buffer; each line is read back as the operator would read it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.error_pages import ErrorsInsideStarlette, server_error
from foundation.logs import HANDLER_NAME, configure_logging
from foundation.request_log import RequestLog
from foundation.response_headers import HeaderPolicy
from foundation.services import Services
from foundation.settings import ConfigurationError, Settings
from lunchkafe import cli
from lunchkafe.app import create_app
from mail.addresses import canonical
from registrations.feeds import feed_for, feed_token
from tests.factories import mailed_manage_token, make_event, person

ROOT = Path(__file__).resolve().parents[2]
Configure = Callable[[Settings], io.StringIO]
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# The test's own HTTP client logs the URLs it fetches; the app makes no such requests.
NOT_OURS = ("httpx", "httpcore")
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) \S+ ")


def settings(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_environ({"VAR_DIR": str(tmp_path), **environ})


@pytest.fixture
def configure() -> Iterator[Configure]:
    """Logging configured as at process start, into a buffer; put back as it was after."""
    root = logging.getLogger()
    level = root.level
    saved = {
        name: (logger.handlers[:], logger.propagate, logger.disabled)
        for name in UVICORN_LOGGERS
        for logger in [logging.getLogger(name)]
    }

    def configured(settings: Settings) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(settings, stream)
        return stream

    yield configured
    logging.captureWarnings(False)
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, (handlers, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.disabled = disabled


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line the app logged, as a JSON object (fails on a line that is not one)."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if not line["logger"].startswith(NOT_OURS)]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in json_lines(stream) if line["logger"] == "lunchkafe.access"]


# Settings


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("DATABASE_URL", "postgresql://u:s3cret@h/db"),
        ("REDIS_URL", "redis://:s3cret@h:6379/0"),
        ("SMTP_URL", "smtp://u:s3cret@h:587"),
        ("SMTP_URL", "smtp://u:s3cret@h:587?timeout=10"),
        ("DATABASE_URL", "postgresql://u@h/db?password=s3cret&ssl=require"),
    ],
)
def test_settings_show_no_password(tmp_path: Path, variable: str, url: str) -> None:
    # Mail that reaches people needs the site's address (foundation.settings).
    built = settings(tmp_path, SECRET_KEY="the-key", BASE_URL="https://k.se", **{variable: url})
    for shown in (repr(built), str(built), f"{built}", repr(Services.build(built).settings)):
        assert "s3cret" not in shown
        assert "the-key" not in shown
        assert "***" in shown
    # The settings themselves keep the password: only what they show hides it.
    assert "s3cret" in getattr(built, variable.lower())


def test_settings_show_what_is_not_secret(tmp_path: Path) -> None:
    smtp = "smtp://u:s3cret@mail.example:587?timeout=10"
    shown = repr(settings(tmp_path, SMTP_URL=smtp, BASE_URL="https://k.se"))
    assert "smtp://u:***@mail.example:587?timeout=10" in shown
    assert "sqlite+aiosqlite:///" in shown
    assert "log_format='text'" in shown


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"LOG_FORMAT": "yaml"}, "LOG_FORMAT"),
        ({"LOG_FORMAT": "JSON lines"}, "LOG_FORMAT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"LOG_LEVEL": "20"}, "LOG_LEVEL"),
    ],
)
def test_a_bad_log_setting_is_refused_by_name(
    tmp_path: Path, environ: dict[str, str], name: str
) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings(tmp_path, **environ)


def test_log_settings_default_to_text_at_info_and_ignore_case(tmp_path: Path) -> None:
    assert (settings(tmp_path).log_format, settings(tmp_path).log_level) == ("text", "INFO")
    chosen = settings(tmp_path, LOG_FORMAT="JSON", LOG_LEVEL="warning")
    assert (chosen.log_format, chosen.log_level) == ("json", "WARNING")


def test_a_bad_log_format_stops_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    assert cli.main(["events", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lunchkafe: configuration error: LOG_FORMAT"), err


def test_a_bad_log_format_stops_the_web_process_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "VAR_DIR": str(tmp_path), "LOG_FORMAT": "yaml"}
    env.pop("DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", "import lunchkafe.asgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "LOG_FORMAT" in run.stderr
    assert "Traceback" not in run.stderr, run.stderr


# Formats


def test_text_lines_carry_time_level_and_logger(tmp_path: Path, configure: Configure) -> None:
    stream = configure(settings(tmp_path))
    logging.getLogger("lunchkafe.workers").info("anonymised %d registrations", 3)
    logging.getLogger("lunchkafe.workers").debug("not at INFO")
    [line] = stream.getvalue().splitlines()
    assert TEXT_LINE.match(line), line
    assert line.endswith(" INFO lunchkafe.workers anonymised 3 registrations")


def test_json_lines_are_one_object_each_even_with_a_traceback(
    tmp_path: Path, configure: Configure
) -> None:
    stream = configure(settings(tmp_path, LOG_FORMAT="json", LOG_LEVEL="WARNING"))
    logging.getLogger("lunchkafe.workers").info("below the level")
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("lunchkafe.errors").exception("it broke")
    [line] = json_lines(stream)
    assert line["level"] == "ERROR"
    assert line["logger"] == "lunchkafe.errors"
    assert line["message"] == "it broke"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert "ValueError: broken" in line["exception"]
    assert "request_id" not in line  # logged outside any request


def test_uvicorn_lines_follow_the_format_and_its_access_line_is_off(
    tmp_path: Path, configure: Configure
) -> None:
    stream = configure(settings(tmp_path, LOG_FORMAT="json"))
    # At WARNING: uvicorn's loggers keep the level of its own --log-level.
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("uvicorn.access").warning('127.0.0.1 - "GET /manage/abc HTTP/1.1" 200')
    assert [line["logger"] for line in json_lines(stream)] == ["uvicorn.error"]


def test_warnings_are_logged_with_time_and_level(tmp_path: Path, configure: Configure) -> None:
    stream = configure(settings(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the suite turns warnings into errors
        warnings.warn("careful", UserWarning, stacklevel=1)
    line = stream.getvalue().splitlines()[0]  # then the line of source that warned
    assert TEXT_LINE.match(line), line
    assert " WARNING py.warnings " in line
    assert "UserWarning: careful" in line


# Requests


async def test_token_pages_log_json_with_the_route_template_and_no_token(
    services: Services, configure: Configure
) -> None:
    stream = configure(dataclasses.replace(services.settings, log_format="json"))
    event = await make_event(services)
    attendee = person()
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        booked = await client.post(
            f"/api/events/{event.id}/registrations",
            json={
                "name": attendee.name,
                "email": attendee.email,
                "organisation": attendee.organisation,
                "consent": True,
            },
        )
        assert booked.status_code == 202
        manage = await mailed_manage_token(services, event.id, attendee.email)
        async with services.transaction() as session:
            feed = await feed_for(session, canonical(attendee.email), services.settings.secret_key)
        token = feed_token(feed, services.settings.secret_key)
        page = await client.get(f"/manage/{manage}")
        ics = await client.get(f"/feeds/{token}.ics")
        missing = await client.get(f"/manage/{manage}/nothing/here")
    assert (page.status_code, ics.status_code, missing.status_code) == (200, 200, 404)

    lines = access_lines(stream)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("POST", "/api/events/{event_id}/registrations", 202),
        ("GET", "/manage/{token}", 200),
        ("GET", "/feeds/{token}.ics", 200),
        ("GET", "<unmatched>", 404),
    ]
    answers = [booked, page, ics, missing]
    for line, answer in zip(lines, answers, strict=True):
        assert line["request_id"] == answer.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
        assert line["level"] == "INFO"
        assert isinstance(line["duration_ms"], float)
    assert len({line["request_id"] for line in lines}) == len(lines)
    logged = "\n".join(json.dumps(line, ensure_ascii=False) for line in json_lines(stream))
    for secret in (manage, token, feed.token_nonce, attendee.email, attendee.name):
        assert secret not in logged


async def test_a_well_formed_request_id_is_kept_and_another_replaced(
    services: Services, configure: Configure
) -> None:
    stream = configure(dataclasses.replace(services.settings, log_format="json"))
    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        kept = await client.get("/", headers={"X-Request-ID": "edge-7f3a-0001"})
        too_long = await client.get("/", headers={"X-Request-ID": "a" * 65})
        odd = await client.get("/", headers={"X-Request-ID": 'x" injected=1'})
    assert kept.headers["x-request-id"] == "edge-7f3a-0001"
    for replaced in (too_long, odd):
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    ids = [line["request_id"] for line in access_lines(stream)]
    assert ids == [answer.headers["x-request-id"] for answer in (kept, too_long, odd)]
    assert "injected" not in json.dumps(json_lines(stream))


async def test_an_unhandled_error_is_logged_with_the_request_id(
    tmp_path: Path, configure: Configure
) -> None:
    stream = configure(settings(tmp_path, LOG_FORMAT="json"))

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    routes = [Route("/api/broken/{token}", broken)]
    app = ErrorsInsideStarlette(
        routes=routes,
        exception_handlers={Exception: server_error},
        header_policy=HeaderPolicy(https=False),
        around=[Middleware(RequestLog, routes=routes)],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/api/broken/secret-token-value")
    assert answer.status_code == 500
    error, access = json_lines(stream)
    assert error["logger"] == "lunchkafe.errors"
    assert "RuntimeError: a bug" in error["exception"]
    assert error["request_id"] == access["request_id"] == answer.headers["x-request-id"]
    assert (access["route"], access["status"]) == ("/api/broken/{token}", 500)
    assert "secret-token-value" not in json.dumps(json_lines(stream))
