"""SMTP delivery against a real aiosmtpd server on loopback: TLS, auth, reuse, and failures."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from urllib.parse import quote

import pytest

from mail.smtp import (
    MAX_ATTEMPTS,
    SmtpConfig,
    SmtpTransport,
    backoff_delay,
    parse_smtp_url,
)
from tests.conftest import HANG_UP, SmtpServer

StartServer = Callable[..., SmtpServer]

# Characters that need percent-encoding in SMTP_URL, and one that is not ASCII.
USERNAME = "kafe@example.se"
PASSWORD = "hem:lig/t lösen"
BODY = "Hej Anna!\n\nDu är anmäld till onsdag 3 december 2026, kl. 12.00–13.00.\n"


def make_message(to: str = "anna@example.se", subject: str = "Välkommen") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Lunchkafé <lunchkafe@example.se>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.se")
    message.set_content(BODY)
    return message


def plain(server: SmtpServer) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=server.port, timeout=5)


def subjects(server: SmtpServer) -> list[str]:
    parser = BytesParser(policy=policy.default)
    found = []
    for envelope in server.recorder.messages:
        assert isinstance(envelope.content, bytes)  # aiosmtpd keeps raw bytes by default
        found.append(str(parser.parsebytes(envelope.content)["Subject"]))
    return found


# --- delivery ---------------------------------------------------------------------------------


async def test_three_messages_share_one_connection(start_server: StartServer) -> None:
    server = start_server()
    async with SmtpTransport(plain(server)) as transport:
        outcomes = [await transport.send(make_message(subject=f"nr {n}")) for n in range(3)]

    assert [o.status for o in outcomes] == ["sent"] * 3
    assert all("queued as" in o.detail for o in outcomes)
    assert subjects(server) == ["nr 0", "nr 1", "nr 2"]
    assert server.recorder.messages[0].mail_from == "lunchkafe@example.se"
    assert server.recorder.messages[0].rcpt_tos == ["anna@example.se"]
    assert len(server.recorder.connections) == 1


async def test_nothing_connects_until_the_first_send(start_server: StartServer) -> None:
    server = start_server()
    async with SmtpTransport(plain(server)):
        pass
    assert server.recorder.connections == []


async def test_starttls_verifies_against_the_given_ca(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    server = start_server(tls_context=server_tls, require_starttls=True)
    config = parse_smtp_url(f"smtp+starttls://127.0.0.1:{server.port}")
    async with SmtpTransport(config, tls_context=client_tls) as transport:
        first = await transport.send(make_message(subject="ett"))
        second = await transport.send(make_message(subject="två"))

    assert (first.status, second.status) == ("sent", "sent")
    assert subjects(server) == ["ett", "två"]
    connection = server.recorder.connections[0]
    assert len(server.recorder.connections) == 1
    assert connection._tls_protocol is not None  # aiosmtpd has no public "is this TLS"


async def test_starttls_with_an_untrusted_certificate_is_a_retry(
    start_server: StartServer, server_tls: ssl.SSLContext
) -> None:
    # Without the test CA the system trust store is used, which must reject the certificate:
    # verification is never switched off to make delivery "work".
    server = start_server(tls_context=server_tls, require_starttls=True)
    config = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?starttls=true&timeout=5")
    async with SmtpTransport(config) as transport:
        outcome = await transport.send(make_message())

    assert outcome.status == "retry"
    assert "certificate" in outcome.detail.lower()
    assert server.recorder.messages == []


async def test_implicit_tls(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    server = start_server(ssl_context=server_tls)
    config = parse_smtp_url(f"smtps://127.0.0.1:{server.port}")
    async with SmtpTransport(config, tls_context=client_tls) as transport:
        outcome = await transport.send(make_message(subject="över TLS"))

    assert outcome.status == "sent"
    assert subjects(server) == ["över TLS"]


@pytest.mark.parametrize(("mechanism", "excluded"), [("PLAIN", ["LOGIN"]), ("LOGIN", ["PLAIN"])])
async def test_auth_with_credentials_from_the_url(
    start_server: StartServer, mechanism: str, excluded: list[str]
) -> None:
    server = start_server(
        login=(USERNAME, PASSWORD),
        auth_required=False,  # aiosmtpd warns about requiring AUTH without TLS
        auth_require_tls=False,
        auth_exclude_mechanism=excluded,
    )
    url = f"smtp://{quote(USERNAME, safe='')}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}"
    async with SmtpTransport(parse_smtp_url(url)) as transport:
        outcome = await transport.send(make_message())

    assert outcome.status == "sent"
    assert server.recorder.auth_attempts == [(mechanism, True)]


async def test_auth_over_starttls_with_auth_required(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    server = start_server(
        login=(USERNAME, PASSWORD),
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
    )
    config = SmtpConfig(
        "127.0.0.1", server.port, USERNAME, PASSWORD, security="starttls", timeout=5
    )
    async with SmtpTransport(config, tls_context=client_tls) as transport:
        outcome = await transport.send(make_message())

    assert outcome.status == "sent"
    assert server.recorder.auth_attempts == [("PLAIN", True)]
    assert len(server.recorder.messages) == 1


async def test_wrong_password_fails(start_server: StartServer) -> None:
    server = start_server(login=(USERNAME, PASSWORD), auth_require_tls=False)
    config = SmtpConfig("127.0.0.1", server.port, USERNAME, "fel", timeout=5)
    async with SmtpTransport(config) as transport:
        outcome = await transport.send(make_message())

    assert outcome.status == "failed"
    assert outcome.detail.startswith("535")
    assert server.recorder.auth_attempts  # aiosmtplib tries each offered mechanism in turn
    assert not any(valid for _, valid in server.recorder.auth_attempts)
    assert server.recorder.messages == []


# --- failures and their meaning ---------------------------------------------------------------


async def test_greylisting_451_then_accepted(start_server: StartServer) -> None:
    server = start_server(rcpt_replies=["451 4.7.1 Greylisted, try again later"])
    async with SmtpTransport(plain(server)) as transport:
        first = await transport.send(make_message())
        second = await transport.send(make_message())

    assert first.status == "retry"
    assert first.detail == "anna@example.se: 451 4.7.1 Greylisted, try again later"
    assert second.status == "sent"
    assert len(server.recorder.messages) == 1
    assert len(server.recorder.connections) == 1


@pytest.mark.parametrize(
    ("command", "reply", "status"),
    [
        ("rcpt", "550 5.1.1 <anna@example.se>: no such user", "failed"),
        ("data", "550 5.7.1 Message refused as spam", "failed"),
        ("mail", "553 5.7.1 Sender address rejected", "failed"),
        ("rcpt", "452 4.2.2 Mailbox full", "retry"),
        ("data", "451 4.3.0 Local error in processing", "retry"),
    ],
)
async def test_reply_codes_decide_between_retry_and_failed(
    start_server: StartServer,
    caplog: pytest.LogCaptureFixture,
    command: str,
    reply: str,
    status: str,
) -> None:
    server = start_server(**{f"{command}_replies": [reply]})
    caplog.set_level(logging.WARNING, logger="lunchkafe.mail")
    async with SmtpTransport(plain(server)) as transport:
        refused = make_message()
        outcome = await transport.send(refused)
        # A refused message leaves the connection fit for the rest of the batch.
        after = await transport.send(make_message())

    assert outcome.status == status
    assert reply in outcome.detail
    assert after.status == "sent"
    assert len(server.recorder.connections) == 1
    assert refused["Message-ID"] in caplog.text
    # The log says the codes (550 5.1.1); the server's words, which quote addresses, stay on
    # the outbox row for the organiser.
    assert " ".join(reply.split()[:2]) in caplog.text
    assert "@" not in caplog.text.replace(refused["Message-ID"], "")
    assert "anmäld" not in caplog.text  # bodies stay out of logs


async def test_some_recipients_refused_is_still_sent(start_server: StartServer) -> None:
    # Retrying would send a duplicate to the recipient who got it; the detail names the other.
    server = start_server(rcpt_replies=[None, "550 5.1.1 no such user"])
    async with SmtpTransport(plain(server)) as transport:
        outcome = await transport.send(make_message(to="anna@example.se, bo@example.se"))

    assert outcome.status == "sent"
    assert "bo@example.se: 550 5.1.1 no such user" in outcome.detail
    assert server.recorder.messages[0].rcpt_tos == ["anna@example.se"]


async def test_connection_refused_is_a_retry(unused_port: int) -> None:
    config = SmtpConfig("127.0.0.1", unused_port, timeout=5)
    async with SmtpTransport(config) as transport:
        outcome = await transport.send(make_message())

    assert outcome.status == "retry"
    assert str(unused_port) in outcome.detail


async def test_a_silent_server_times_out_as_a_retry() -> None:
    # Accepts the connection and never greets: the timeout from the URL must end the wait.
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        config = parse_smtp_url(f"smtp://127.0.0.1:{port}?timeout=0.2")
        async with SmtpTransport(config) as transport:
            outcome = await transport.send(make_message())
    finally:
        silent.close()

    assert outcome.status == "retry"
    assert "Timeout" in outcome.detail


# --- reconnecting -----------------------------------------------------------------------------


async def test_server_closing_between_messages_reconnects(start_server: StartServer) -> None:
    server = start_server()
    async with SmtpTransport(plain(server)) as transport:
        first = await transport.send(make_message(subject="före"))
        await server.drop_connections()
        second = await transport.send(make_message(subject="efter"))

    assert (first.status, second.status) == ("sent", "sent")
    assert subjects(server) == ["före", "efter"]
    assert len(server.recorder.connections) == 2


async def test_server_hanging_up_on_a_reused_connection_is_retried_at_once(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The server vanishes as the client sends MAIL for the second message: no reply at all.
    server = start_server(mail_replies=[None, HANG_UP])
    caplog.set_level(logging.INFO, logger="lunchkafe.mail")
    async with SmtpTransport(plain(server)) as transport:
        first = await transport.send(make_message(subject="ett"))
        second = await transport.send(make_message(subject="två"))

    assert (first.status, second.status) == ("sent", "sent")
    assert subjects(server) == ["ett", "två"]
    assert len(server.recorder.connections) == 2
    assert "reconnecting" in caplog.text


async def test_idle_timeout_421_on_a_reused_connection_is_retried_at_once(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The client still believes in the connection when it sends MAIL; the server answers 421
    # and hangs up (Postfix's idle timeout). That message must go out on a new connection.
    server = start_server(mail_replies=[None, "421 4.4.2 Timeout exceeded"])
    caplog.set_level(logging.INFO, logger="lunchkafe.mail")
    async with SmtpTransport(plain(server)) as transport:
        first = await transport.send(make_message(subject="ett"))
        second = await transport.send(make_message(subject="två"))

    assert (first.status, second.status) == ("sent", "sent")
    assert subjects(server) == ["ett", "två"]
    assert len(server.recorder.connections) == 2
    assert "reconnecting" in caplog.text


async def test_reconnects_only_once_per_message(start_server: StartServer) -> None:
    server = start_server(mail_replies=[None, "421 4.3.2 Shutting down", "421 4.3.2 Still down"])
    async with SmtpTransport(plain(server)) as transport:
        await transport.send(make_message())
        outcome = await transport.send(make_message())

    assert outcome.status == "retry"
    assert outcome.detail == "421 4.3.2 Still down"
    assert len(server.recorder.connections) == 2


async def test_a_fresh_connection_that_fails_is_not_retried(start_server: StartServer) -> None:
    server = start_server(mail_replies=["421 4.3.2 Shutting down"])
    async with SmtpTransport(plain(server)) as transport:
        outcome = await transport.send(make_message())

    assert outcome.status == "retry"
    assert len(server.recorder.connections) == 1


async def test_a_message_without_recipients_is_a_programming_error(
    start_server: StartServer,
) -> None:
    server = start_server()
    message = make_message()
    del message["To"]
    async with SmtpTransport(plain(server)) as transport:
        with pytest.raises(ValueError, match="recipient"):
            await transport.send(message)


# --- SMTP_URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.se", SmtpConfig("mail.example.se", 25)),
        ("smtp://127.0.0.1:2525", SmtpConfig("127.0.0.1", 2525)),
        ("smtp://relay:587?starttls=true", SmtpConfig("relay", 587, security="starttls")),
        ("smtp://relay?starttls=true", SmtpConfig("relay", 587, security="starttls")),
        ("smtp+starttls://relay", SmtpConfig("relay", 587, security="starttls")),
        ("SMTP+STARTTLS://relay:2587", SmtpConfig("relay", 2587, security="starttls")),
        ("smtp://relay?starttls=false", SmtpConfig("relay", 25)),
        ("smtps://relay", SmtpConfig("relay", 465, security="tls")),
        ("smtps://relay:4650?timeout=2.5", SmtpConfig("relay", 4650, security="tls", timeout=2.5)),
        (
            "smtps://apikey:p%40ss%3Aw%2Fo%20rd%C3%B6@relay",
            SmtpConfig("relay", 465, "apikey", "p@ss:w/o rdö", security="tls"),
        ),
        ("smtp://user%40example.se:x@[::1]:25", SmtpConfig("::1", 25, "user@example.se", "x")),
        ("smtp://relay/", SmtpConfig("relay", 25)),
    ],
)
def test_parse_smtp_url(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://relay", "scheme"),
        ("relay:25", "scheme"),
        ("", "scheme"),
        ("smtp://", "host"),
        ("smtp://:25", "host"),
        ("smtp://relay:port", "port"),
        ("smtp://relay:70000", "port"),
        ("smtp://relay:0", "port"),
        ("smtp://relay/inbox", "path"),
        ("smtp://relay?starttls=maybe", "starttls"),
        ("smtps://relay?starttls=true", "smtps"),
        ("smtp+starttls://relay?starttls=false", "contradicts"),
        ("smtp://relay?timeout=soon", "timeout"),
        ("smtp://relay?timeout=0", "timeout"),
        ("smtp://relay?timeout=nan", "timeout"),
        ("smtp://relay?timeout=1&timeout=2", "timeout"),
        ("smtp://relay?tls=true", "unknown options: tls"),
        ("smtp://hemligt-lösen@relay", "no password"),
        ("smtp://:hemligt-lösen@relay", "no user name"),
    ],
)
def test_bad_smtp_urls_say_what_is_wrong(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as raised:
        parse_smtp_url(url)
    assert "hemligt" not in str(raised.value)


def test_bad_url_errors_never_echo_the_password() -> None:
    for url in (
        "smtp://user:hemligt@relay:port",
        "smtp://user:hemligt@relay/path",
        "ftp://user:hemligt@relay",
        "smtp://user:hemligt@relay?x=1",
        "smtp://user:hemligt@[::1",
    ):
        with pytest.raises(ValueError, match="SMTP_URL") as raised:
            parse_smtp_url(url)
        assert "hemligt" not in str(raised.value)


def test_config_repr_hides_the_password() -> None:
    config = parse_smtp_url("smtp://user:hemligt@relay")
    assert config.password == "hemligt"
    assert "hemligt" not in repr(config)


# --- back-off ---------------------------------------------------------------------------------


def test_backoff_doubles_from_a_minute_up_to_an_hour() -> None:
    delays = [backoff_delay(n) for n in range(1, 10)]
    assert delays[:7] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert delays[7:] == [timedelta(hours=1)] * 2
    assert backoff_delay(10**9) == timedelta(hours=1)


def test_max_attempts_covers_a_few_hours_of_outage() -> None:
    waited = sum((backoff_delay(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(hours=2) <= waited <= timedelta(hours=12)


def test_backoff_needs_a_failed_attempt() -> None:
    with pytest.raises(ValueError, match="attempts"):
        backoff_delay(0)
