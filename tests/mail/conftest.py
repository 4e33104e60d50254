"""A real SMTP server (aiosmtpd) on loopback that records what it receives and answers as told."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.conftest import free_port  # aiosmtpd probes its port after binding: not 0

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
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **smtp_options)
        controller.start()
        controllers.append(controller)
        return SmtpServer(controller, recorder, port)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    """A verifying client context that trusts the test CA (and nothing else)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies host name and chain
    test_ca.configure_trust(context)
    return context
