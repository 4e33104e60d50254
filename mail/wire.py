"""A mail assembled as the bytes that go on the wire, without building an EmailMessage.

A fan-out (a reminder to every attendee, an organiser's message) sends thousands of mails that
differ only in a name, a few links and two headers. Building and flattening an EmailMessage
for each costs more than sending it (DESIGN.md, "What this stack costs"), so a fan-out folds
the headers they share once per relay form, and each mail is those bytes, its own To and
Message-ID folded by the same header classes (mail.headers.POLICY), and its two parts.

The result is what `email`'s BytesGenerator writes for the same message (RFC 5322 headers,
RFC 2046 multipart/alternative, plain text first), with both parts in base64 (RFC 2045 §6.8):
seven-bit on every relay, with or without 8BITMIME, and read back exactly as written.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

# The forms aiosmtplib writes a message in: SMTPUTF8 only when an address needs it.
WIRE = {False: policy.SMTP, True: policy.SMTPUTF8}


@dataclass(frozen=True)
class WireMail:
    """One mail ready to send: the envelope as stored (mail.addresses.on_the_wire gives the
    relay's form) and `data(utf8)`, the message's bytes for a transaction with or without
    SMTPUTF8 (RFC 6531). `message_id` names it in logs (no personal data)."""

    sender: str
    recipients: Sequence[str]
    message_id: str
    data: Callable[[bool], bytes]


def folded(message: EmailMessage, utf8: bool) -> bytes:
    """`message`'s headers as BytesGenerator writes them for the relay form `utf8`.

    Raises mail.addresses.Undeliverable for an address only SMTPUTF8 carries when `utf8` is
    False, as flattening the message would."""
    wire = WIRE[utf8]
    return b"".join(wire.fold_binary(name, value) for name, value in message.raw_items())


def new_boundary() -> str:
    # "=_" appears in no base64 text (RFC 2046 §5.1.1: the boundary must not occur inside).
    return f"=_{secrets.token_hex(12)}"


def alternative_head(head: EmailMessage, boundary: str) -> None:
    """Add the MIME headers of a multipart/alternative message (set after the others)."""
    head["MIME-Version"] = "1.0"
    head["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'


def _part(subtype: str, content: str) -> bytes:
    # Text in its canonical form before base64 (RFC 2045 §6.8, RFC 2046 §4.1.1): CRLF
    # between lines, split where bytes split (as EmailMessage.set_content splits them).
    body = b"\r\n".join(content.encode("utf-8").splitlines()) + b"\r\n"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + base64.encodebytes(body).replace(b"\n", b"\r\n")


def alternative(head: bytes, boundary: str, text: str, html: str) -> bytes:
    """A whole message: `head` (every header line, ending in CRLF), then the plain-text and
    HTML parts of a multipart/alternative body whose boundary `head` declares."""
    mark = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        (
            head,
            b"\r\n",
            mark,
            _part("plain", text),
            b"\r\n",
            mark,
            _part("html", html),
            b"\r\n",
            f"--{boundary}--\r\n".encode("ascii"),
        )
    )
