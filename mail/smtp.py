"""Delivering messages over SMTP: the SMTP_URL, one reused connection, and what a failure means."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from aiosmtplib.email import extract_recipients, extract_sender

from mail import addresses
from mail.wire import WireMail

log = logging.getLogger("lunchkafe.mail")
_ENHANCED_CODE = re.compile(r"[245]\.\d{1,3}\.\d{1,3}\b")

Security = Literal["plain", "starttls", "tls"]
Status = Literal["sent", "retry", "failed"]

DEFAULT_TIMEOUT = 10.0
_DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "tls": 465}
_SCHEMES: dict[str, Security] = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

# The back-off doubles from one minute: a greylisting server (the usual 4xx) accepts on the
# second or third try, while an outage of our relay gets longer pauses instead of a retry
# storm. The cap keeps the worst wait after recovery at an hour. With MAX_ATTEMPTS = 10 a
# message keeps trying for about four hours (1+2+4+…+32+60+60+60 minutes), long enough to
# ride out a relay restart or a provider incident, short enough that an organiser sees a
# failed booking mail the same day rather than finding out days later. No jitter: the outbox
# delivers due rows in batches over one connection, so a herd costs one connection, and a
# deterministic schedule is what the organiser's "next attempt" column can show.
MAX_ATTEMPTS = 10
_FIRST_DELAY = timedelta(minutes=1)
_MAX_DELAY = timedelta(hours=1)


def backoff_delay(attempts: int) -> timedelta:
    """How long to wait before the next try, after `attempts` tries (1 or more) have failed."""
    if attempts < 1:
        raise ValueError(f"attempts must be 1 or more, got {attempts}")
    # Cap the exponent before shifting so a huge attempt count cannot build a huge integer.
    return min(_FIRST_DELAY * (1 << min(attempts - 1, 16)), _MAX_DELAY)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Security = "plain"
    timeout: float = DEFAULT_TIMEOUT


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read SMTP_URL: smtp://, smtp+starttls:// (or smtp://…?starttls=true) and smtps://.

    User name and password go in the netloc, percent-encoded; `?timeout=` is in seconds.
    Error messages never include the password.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        # urlsplit's message would quote the URL, password and all.
        raise ValueError("SMTP_URL is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(
            f"SMTP_URL scheme must be smtp://, smtp+starttls:// or smtps://, got {scheme!r}"
        )
    security = _SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError("SMTP_URL has no host name")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP_URL must not have a path or fragment; options go in ?query")

    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - {"starttls", "timeout"})
    if unknown:
        raise ValueError(f"SMTP_URL has unknown options: {', '.join(unknown)}")
    if "starttls" in query:
        wanted = _single(query, "starttls").lower()
        if wanted not in _TRUE | _FALSE:
            raise ValueError(f"SMTP_URL starttls must be true or false, got {wanted!r}")
        if wanted in _TRUE:
            if security == "tls":
                raise ValueError("SMTP_URL smtps:// is already TLS; starttls=true contradicts it")
            security = "starttls"
        elif security == "starttls":
            raise ValueError("SMTP_URL smtp+starttls:// contradicts starttls=false")

    timeout = DEFAULT_TIMEOUT
    if "timeout" in query:
        text = _single(query, "timeout")
        try:
            timeout = float(text)
        except ValueError:
            raise ValueError(
                f"SMTP_URL timeout must be a number of seconds, got {text!r}"
            ) from None
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"SMTP_URL timeout must be positive, got {text!r}")

    try:
        port = parts.port
    except ValueError:
        # urlsplit's own message quotes only the port, but say it in our words.
        raise ValueError("SMTP_URL port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("SMTP_URL port must be a number from 1 to 65535")

    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username is None and password:
        raise ValueError("SMTP_URL has a password but no user name")
    if username is not None and password is None:
        raise ValueError("SMTP_URL has a user name but no password (user:password@host)")

    return SmtpConfig(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[security],
        username=username,
        password=password,
        security=security,
        timeout=timeout,
    )


def _single(query: dict[str, list[str]], name: str) -> str:
    values = query[name]
    if len(values) != 1:
        raise ValueError(f"SMTP_URL option {name} is given {len(values)} times")
    return values[0]


@dataclass(frozen=True)
class DeliveryOutcome:
    """How one send went. `detail` (the server's words) is kept on the outbox row for the
    organiser; `summary` is what a log line may say: reply codes and exception kinds only,
    because servers quote the recipient's address in their replies."""

    status: Status
    detail: str
    summary: str = ""


class SmtpTransport:
    """One lazily opened SMTP connection, reused for every message sent through it.

    `tls_context` replaces the system trust store, for a relay with a private CA (and tests);
    without it certificates are verified against the system's CAs.
    """

    takes_wire = True  # a WireMail's bytes go out as they are (mail.wire)

    def __init__(self, config: SmtpConfig, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._config = config
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None
        # The reconnect-and-retry below is not safe if two tasks interleave on one connection.
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            # A server that is already gone cannot be told goodbye.
            client.close()

    async def send(self, message: EmailMessage | WireMail) -> DeliveryOutcome:
        """Send one message; never raises for a delivery problem, only for a malformed message.

        Sender and recipients come from the headers (From/Sender, To/Cc/Bcc), or from a
        WireMail's envelope; a message without them is a programming error and raises
        ValueError.
        """
        async with self._lock:
            reused = self._client is not None and self._client.is_connected
            outcome, stale = await self._send_once(message)
            if stale and reused:
                # The server dropped a connection we had kept open (an idle timeout, a restart),
                # almost always before this message reached it, so one fresh connection is
                # worth a try. Should it have dropped after taking the data, the recipient
                # gets the mail twice, which beats not at all.
                log.info("SMTP connection was closed by the server; reconnecting")
                outcome, _ = await self._send_once(message)
        if outcome.status != "sent":
            log.warning(
                "SMTP delivery of %s: %s (%s)",
                _message_id(message),
                outcome.status,
                outcome.summary or outcome.status,
            )
        return outcome

    async def _send_once(self, message: EmailMessage | WireMail) -> tuple[DeliveryOutcome, bool]:
        """Returns the outcome and whether it came from a connection the server had closed."""
        try:
            client = await self._connected()
        except aiosmtplib.SMTPResponseException as exc:
            self._drop()
            return _from_reply(exc.code, exc.message), False
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Refused, unreachable, timed out, TLS handshake or certificate problem, STARTTLS
            # not offered: all about the relay, not this message, so later may work.
            self._drop()
            return _from_exception("retry", exc), False

        # The relay's EHLO decides the form of every address (mail/addresses.py): as written
        # with SMTPUTF8, else ASCII with the domain in A-labels, in the envelope and headers.
        smtputf8 = client.supports_extension("smtputf8")
        try:
            sender = addresses.on_the_wire(_sender(message), smtputf8=smtputf8)
            recipients = [addresses.on_the_wire(r, smtputf8=smtputf8) for r in _recipients(message)]
        except addresses.Undeliverable as exc:
            # Only SMTPUTF8 carries the address (SMTP_UTF8=on promised the relay offers it),
            # or it is no address at all: no retry changes either.
            return DeliveryOutcome("failed", str(exc), "Undeliverable"), False
        try:
            if isinstance(message, WireMail):
                refused, reply = await _send_wire(client, message, sender, recipients)
            else:
                refused, reply = await client.send_message(
                    message, sender=sender, recipients=recipients
                )
        except asyncio.CancelledError:
            # A reply may still be on its way; a later send must not read it as its own.
            self._drop()
            raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            permanent = any(r.code >= 500 for r in exc.recipients)
            codes = ", ".join(_reply_code(r.code, r.message) for r in exc.recipients)
            status: Status = "failed" if permanent else "retry"
            return DeliveryOutcome(status, detail, f"recipients refused: {codes}"), False
        except aiosmtplib.SMTPResponseException as exc:
            # 421 means the server is closing the channel; aiosmtplib has already closed it.
            return _from_reply(exc.code, exc.message), exc.code == 421
        except aiosmtplib.SMTPServerDisconnected as exc:
            self._drop()
            return _from_exception("retry", exc), True
        except aiosmtplib.SMTPNotSupported as exc:
            # An internationalised address the server cannot take: no retry will change that.
            return _from_exception("failed", exc), False
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Read timeouts land here; the message may or may not have been accepted, and
            # retrying later risks a duplicate rather than a lost mail, which is the better error.
            self._drop()
            return _from_exception("retry", exc), False

        if refused:
            # Accepted for someone: retrying would send a duplicate to them. Say who missed out.
            skipped = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in refused.items())
            log.warning(
                "SMTP delivery of %s: %d recipient(s) refused (%s)",
                _message_id(message),
                len(refused),
                ", ".join(_reply_code(r.code, r.message) for r in refused.values()),
            )
            return DeliveryOutcome("sent", f"{reply} (refused: {skipped})"), False
        return DeliveryOutcome("sent", reply), False

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self._drop()
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.security == "tls",
            # Explicit False: aiosmtplib would otherwise upgrade opportunistically and then
            # reject the relay's certificate on a URL that asked for plain SMTP.
            start_tls=config.security == "starttls",
            tls_context=self._tls_context,
            timeout=config.timeout,
        )
        try:
            await client.connect()
            # Greeted now, not at the first MAIL: the relay's extensions (SMTPUTF8) decide
            # how each address is written (mail/addresses.py) before the message is.
            if client.is_ehlo_or_helo_needed:
                try:
                    await client.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await client.helo()
        except BaseException:
            client.close()
            raise
        self._client = client
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def _from_reply(code: int, message: str) -> DeliveryOutcome:
    # Only a 5xx is the server's final word; anything else (4xx, or a reply so odd that
    # aiosmtplib gives it no code) may succeed later.
    status: Status = "failed" if 500 <= code <= 599 else "retry"
    return DeliveryOutcome(status, f"{code} {message}", _reply_code(code, message))


def _from_exception(status: Status, exc: BaseException) -> DeliveryOutcome:
    return DeliveryOutcome(status, _describe(exc), type(exc).__name__)


def _reply_code(code: int, message: str) -> str:
    """`550 5.1.1`: the reply code and, when the server gives one, the enhanced status code
    (RFC 3463), which say what went wrong without the rest of the reply."""
    enhanced = _ENHANCED_CODE.match(message)
    return f"{code} {enhanced.group(0)}" if enhanced else str(code)


async def _send_wire(
    client: aiosmtplib.SMTP, mail: WireMail, sender: str, recipients: list[str]
) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
    """A WireMail's bytes with the MAIL options aiosmtplib's send_message would give them:
    SMTPUTF8 when an address on the wire needs it (RFC 6531), BODY=8BITMIME when offered."""
    utf8 = not (sender.isascii() and all(r.isascii() for r in recipients))
    if utf8 and not client.supports_extension("smtputf8"):
        raise aiosmtplib.SMTPNotSupported(
            "An address containing non-ASCII characters was provided, but "
            "SMTPUTF8 is not supported by this server"
        )
    options = ["SMTPUTF8"] if utf8 else []
    if client.supports_extension("8BITMIME"):
        options.append("BODY=8BITMIME")
    try:
        data = mail.data(utf8)
    except addresses.Undeliverable as exc:  # as flattening an EmailMessage would refuse it
        raise aiosmtplib.SMTPNotSupported(str(exc)) from None
    return await client.sendmail(sender, recipients, data, mail_options=options)


def _sender(message: EmailMessage | WireMail) -> str:
    if isinstance(message, WireMail):
        return message.sender
    sender = extract_sender(message)
    if sender is None:
        raise ValueError("No From header provided in message")
    return sender


def _recipients(message: EmailMessage | WireMail) -> list[str]:
    if isinstance(message, WireMail):
        return list(message.recipients)
    recipients = extract_recipients(message)
    if not recipients:
        raise ValueError("No recipient headers provided in message")
    return recipients


def _message_id(message: EmailMessage | WireMail) -> str:
    # Ours is outbox<row id>.<random>@<sender domain>: no personal data.
    if isinstance(message, WireMail):
        return message.message_id
    return str(message.get("Message-ID", "a message without Message-ID"))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
