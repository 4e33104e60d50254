"""Real services for every test: a SQLite file and a PostgreSQL database, migrated once; the
app in-process and behind uvicorn; Redis; a recording SMTP server (aiosmtpd) on loopback.

PostgreSQL is at 127.0.0.1:5432 (override with TEST_POSTGRES_URL). When it is missing the
PostgreSQL half of the suite is skipped with a message, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from redis.asyncio import Redis
from sqlalchemy import text

from foundation.database import Base
from foundation.services import Services
from foundation.settings import Settings
from lunchkafe.app import create_app
from lunchkafe.migrate import upgrade
from migrations.models import Event  # noqa: F401  (registers every table)
from notices.delivery import DeliveryReport, deliver_due
from tests.databases import (
    POSTGRES_ADMIN_URL,
    drop_database,
    execute_as_admin,
    scratch_database,
)
from tests.ports import free_port

IN_CI = os.environ.get("CI") == "true"
SECRET = "test-secret-key-not-for-production"

# Helper modules whose fixtures every test module may ask for by name; each is loaded after
# this file, so it may import from here.
pytest_plugins = ["tests.browser", "tests.calendars", "tests.processes"]
# Helper modules without fixtures: their asserts report as a test's own do.
pytest.register_assert_rewrite("tests.feeds")


def require_service(name: str, reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass CI silently."""
    message = f"{name} is not reachable ({reason}); start it as machines/python-svc.md says"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def make_settings(database_url: str, var_dir: Path, **extra: str) -> Settings:
    environ = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "VAR_DIR": str(var_dir),
        "BASE_URL": "http://testserver",
        # Tests book many times from one client; tests/registrations/test_floods.py turns
        # the limits on.
        "BOOKING_RATE_LIMIT": "off",
        "BOOKING_RATE_LIMIT_PER_EMAIL": "off",
        **extra,
    }
    return Settings.from_environ(environ)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database URL of each kind, migrated to head once for the session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        # One database per test process, so parallel runs never drop each other's.
        database = f"lunchkafe_test_{os.getpid()}"
        try:
            url = await scratch_database(POSTGRES_ADMIN_URL, database)
        except (OSError, Exception) as exc:  # asyncpg raises several kinds on no server
            require_service("PostgreSQL", str(exc)[:200])
        # A commit returns without waiting for its WAL to reach the disk: what every
        # connection sees is the same (a commit is visible at once); only a crash of the
        # server itself could lose the last commits, and no test crashes the server.
        await execute_as_admin(
            POSTGRES_ADMIN_URL, f'ALTER DATABASE "{database}" SET synchronous_commit = off'
        )
    services = Services.build(make_settings(url, tmp_path_factory.mktemp("var")))
    await upgrade(services.engine)
    await services.close()
    yield url
    if request.param == "postgresql":
        await drop_database(POSTGRES_ADMIN_URL, database)


# Every sequence of the test database that has given a value since it was made or last set.
RESTART_SEQUENCES = """
    SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)
    FROM pg_sequences
    WHERE schemaname = current_schema() AND last_value IS NOT NULL
"""


@pytest.fixture
async def services(migrated_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services on a clean database: every table emptied before the test, and on PostgreSQL
    every sequence started again, so ids count from 1 on both databases.

    DELETE in dependency order rather than TRUNCATE … RESTART IDENTITY CASCADE: TRUNCATE
    makes new files for every table and index, some 0.3–0.5 s a test on a loaded machine,
    where DELETE of a test's few rows and `setval` on the sequences used take a few ms.
    """
    built = Services.build(make_settings(migrated_url, tmp_path))
    async with built.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(text(f'DELETE FROM "{table.name}"'))
        # The guide's search index (guide/search.py) is raw DDL, outside the metadata.
        await conn.execute(text("DELETE FROM guide_search"))
        if not built.settings.is_sqlite:
            # As RESTART IDENTITY: the next id each sequence gives is its first.
            await conn.execute(text(RESTART_SEQUENCES))
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app's own client, in-process."""
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@asynccontextmanager
async def uvicorn_serving(services: Services, **config: Any) -> AsyncIterator[str]:
    """The app behind a real uvicorn on loopback, on the port its BASE_URL names; yields
    that URL once the server listens (links and redirects come from BASE_URL alone)."""
    port = urlsplit(services.settings.base_url).port
    assert port is not None, "BASE_URL must name the port to serve on"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services.settings, services),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **config,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, f"uvicorn did not start on port {port}"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live_server(services: Services) -> AsyncIterator[str]:
    """The app behind a real uvicorn on loopback; yields its base URL (also its BASE_URL)."""
    settings = dataclasses.replace(services.settings, base_url=f"http://127.0.0.1:{free_port()}")
    async with uvicorn_serving(
        dataclasses.replace(services, settings=settings), backlog=1024
    ) as url:
        yield url


@asynccontextmanager
async def flushed_redis(url: str) -> AsyncIterator[Redis]:
    """A client of the machine's Redis on the database in `url`, emptied before and after.

    Each test module that needs Redis has a database number of its own, so they never meet.
    """
    client = Redis.from_url(url)
    try:
        try:
            await client.ping()
        except Exception as exc:  # redis raises several kinds when nothing answers
            require_service("Redis", str(exc)[:200])
        await client.flushdb()
        yield client
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[Any]) -> None:
    # Keep each database's tests together, so one session-scoped database is live at a time.
    items.sort(key=lambda item: "postgresql" in item.nodeid)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


# --- a recording SMTP server ----------------------------------------------------------------

# Replies a test scripts for one SMTP command, consumed one per command across connections;
# None, or an empty script, means "accept as usual".
Script = list[str | None]
HANG_UP = "hang up"  # in a script: drop the connection instead of answering


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps every accepted envelope and every connection that spoke."""

    mail_replies: Script = field(default_factory=list)
    rcpt_replies: Script = field(default_factory=list)
    data_replies: Script = field(default_factory=list)
    messages: list[Envelope] = field(default_factory=list)
    # One aiosmtpd SMTP protocol object per TCP connection (it survives STARTTLS, unlike a
    # count of EHLOs). Controller's own start-up probe never says EHLO, so it is not counted.
    connections: list[Any] = field(default_factory=list)
    auth_attempts: list[tuple[str, bool]] = field(default_factory=list)  # mechanism, valid
    login: tuple[str, str] | None = None
    # Seconds each DATA takes, as a real relay's would: long enough to kill a worker or let a
    # lease run out in the middle of a batch.
    data_delay: float = 0.0

    async def handle_EHLO(
        self, server: Any, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not any(known is server for known in self.connections):
            self.connections.append(server)
        return responses

    async def handle_MAIL(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        reply = _next(self.mail_replies, server)
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = _next(self.rcpt_replies, server)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        reply = _next(self.data_replies, server)
        if reply is not None:
            return reply
        self.messages.append(envelope)
        return f"250 2.0.0 Ok: queued as {len(self.messages)}"

    def authenticator(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> Any:
        valid = (
            isinstance(auth_data, LoginPassword)
            and self.login is not None
            and auth_data == tuple(part.encode() for part in self.login)
        )
        self.auth_attempts.append((mechanism, valid))
        return AuthResult(success=valid, handled=False)


def _next(script: Script, server: Any) -> str | None:
    reply = script.pop(0) if script else None
    if reply == HANG_UP:
        # Gone without a word, as after a crash or a NAT timeout: abort() discards the reply.
        server.transport.abort()
        return "250 OK"
    if reply is not None and reply.startswith("421"):
        # A server that says 421 hangs up, as Postfix does on an idle timeout. The reply is
        # written before this callback runs, and close() flushes it.
        server.loop.call_soon(server.transport.close)
    return reply


@dataclass
class SmtpServer:
    controller: Controller
    recorder: Recorder
    port: int

    async def drop_connections(self) -> None:
        """Close every connection from the server side, and return once that is done."""

        async def close_all() -> None:
            for server in self.recorder.connections:
                if server.transport is not None:
                    server.transport.close()

        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(close_all(), self.controller.loop)
        )


@pytest.fixture
def start_server() -> Iterator[Callable[..., SmtpServer]]:
    """Start a recording server; the scripts say how to answer, other keywords go to SMTP()."""
    controllers: list[Controller] = []

    def start(
        *,
        mail_replies: Script | None = None,
        rcpt_replies: Script | None = None,
        data_replies: Script | None = None,
        login: tuple[str, str] | None = None,
        data_delay: float = 0.0,
        **smtp_options: Any,
    ) -> SmtpServer:
        recorder = Recorder(
            mail_replies=mail_replies or [],
            rcpt_replies=rcpt_replies or [],
            data_replies=data_replies or [],
            login=login,
            data_delay=data_delay,
        )
        if login is not None:
            smtp_options["authenticator"] = recorder.authenticator
        port = free_port()  # aiosmtpd probes its port after binding: not 0
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **smtp_options)
        controller.start()
        controllers.append(controller)
        return SmtpServer(controller, recorder, port)

    yield start
    for controller in controllers:
        controller.stop()


# --- mail as the recipients receive it -----------------------------------------------------------

_PARSER = BytesParser(policy=policy.default)


@dataclass
class Mail:
    """Services whose SMTP_URL points at a recording aiosmtpd server."""

    services: Services
    server: SmtpServer
    _parsed: dict[int, EmailMessage] = field(default_factory=dict)

    @property
    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.server.recorder.messages:
            key = id(envelope)  # parsing is slow; each envelope is parsed once
            if key not in self._parsed:
                assert isinstance(envelope.content, bytes)
                message = _PARSER.parsebytes(envelope.content)
                assert isinstance(message, EmailMessage)
                self._parsed[key] = message
            parsed.append(self._parsed[key])
        return parsed

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def only(self, address: str) -> EmailMessage:
        """The one mail this address got since the last `clear()`."""
        found = self.to(address)
        assert len(found) == 1, [str(m["Subject"]) for m in found]
        return found[0]

    def clear(self) -> None:
        self.server.recorder.messages.clear()
        self._parsed.clear()

    async def deliver(self, **options: Any) -> DeliveryReport:
        return await deliver_due(self.services, **options)


MailFactory = Callable[..., Mail]


@pytest.fixture
async def mail_factory(
    services: Services, start_server: Callable[..., SmtpServer], tmp_path: Path
) -> AsyncIterator[MailFactory]:
    """Build Services on the test's clean database, with SMTP_URL (and any other setting)."""
    built: list[Services] = []

    def make(server: SmtpServer | None = None, **environ: str) -> Mail:
        server = server or start_server()
        environ.setdefault("SMTP_URL", f"smtp://127.0.0.1:{server.port}?timeout=5")
        made = Services.build(make_settings(services.settings.database_url, tmp_path, **environ))
        built.append(made)
        return Mail(made, server)

    yield make
    for made in built:
        await made.close()


@pytest.fixture
def mail(mail_factory: MailFactory) -> Mail:
    return mail_factory()
