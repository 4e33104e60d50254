"""Mail headers that carry what people typed: one header line each, read back as written.

Python's `email` decodes RFC 2047 encoded words it finds in a display name or a Subject and,
on runtimes without `verify_generated_headers` (3.11 before 3.11.10, 3.12 before 3.12.5), can
fold what they hide, CRLF included, into real header lines. So text from people is made
neutral (foundation.text.neutral_line) before it is set, and every composed message is checked
the way `verify_generated_headers` checks it, whatever the runtime.

Its folding also loses text: a long non-ASCII Subject split into two encoded words can lose
the space between them (CPython gh-144156, "en väg" read back as "enväg"), and its parser
keeps the white space between two encoded words of a display name, which RFC 2047 §6.2 says
to drop. So the headers that carry people's words (Subject, From, To, Cc, Reply-To) are
written by POLICY's own header classes below, in forms every reader decodes alike: a Subject
beyond plain ASCII as encoded words holding every character, spaces included; a display name
as its ASCII words plus one encoded word per run of the others; an address as
mail.addresses.on_the_wire gives it for the policy (UTF-8 with SMTPUTF8, else the domain in
A-labels; never an encoded word, which RFC 2047 §5 forbids inside an address).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from email import policy
from email.errors import HeaderDefect
from email.headerregistry import (
    Address,
    AddressHeader,
    BaseHeader,
    HeaderRegistry,
    UniqueAddressHeader,
    UniqueUnstructuredHeader,
)
from email.message import EmailMessage
from email.policy import Policy
from typing import cast

from foundation.text import neutral_line
from mail import addresses

_WIRE = policy.SMTP
# A dot-atom local part of RFC 6531 §3.3 (atext plus UTF-8 beyond ASCII), with no white space.
_ATEXT_UTF8 = r"[^\s\x00-\x20\x7f\"(),.:;<>@\[\\\]]+"
_ATOM_UTF8 = re.compile(rf"{_ATEXT_UTF8}(?:\.{_ATEXT_UTF8})*")
_WIRE_UTF8 = policy.SMTPUTF8
# The same test as CPython's email.generator.NEWLINE_WITHOUT_FWSP (gh-121650), plus the
# other C0 controls and DEL, which have no business in a header either (RFC 5322 §2.2).
_NEWLINE_WITHOUT_FWSP = re.compile(r"\r\n[^ \t]|\r[^ \n\t]|\n[^ \t]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UnsafeHeader(ValueError):
    """A header would not be one header line on the wire; the message names no personal data."""


def mailbox(name: str, address: str) -> Address:
    """`Name <address>` for To/Cc with the name made neutral. Raises UnsafeHeader.

    An address whose local part is beyond ASCII (RFC 6531) is taken in its two parts, since
    the library's parser counts that local part a defect whatever the transport.
    """
    try:
        local, _, domain = address.rpartition("@")
        if not local.isascii() and local.isprintable() and _ATOM_UTF8.fullmatch(local):
            return Address(display_name=neutral_line(name), username=local, domain=domain)
        return Address(display_name=neutral_line(name), addr_spec=address)
    except (ValueError, HeaderDefect):
        # The library's own message quotes the address; say nothing personal instead.
        raise UnsafeHeader("the recipient address cannot be written in a header") from None


def subject(text: str) -> str:
    """A Subject made of people's words (titles, organisers' subjects), on one safe line."""
    return neutral_line(text)


def verify_headers(message: EmailMessage) -> None:
    """Raise UnsafeHeader if any header of any part would not stay one header on the wire.

    Folds each header as aiosmtplib and the mailbox write it (policy.SMTP, or policy.SMTPUTF8
    for an address only SMTPUTF8 carries) and looks for a line break not followed by white
    space, as `verify_generated_headers` does on newer runtimes.
    """
    for part in message.walk():
        for name, value in part.raw_items():
            try:
                folded = _WIRE.fold(name, value)
            except addresses.Undeliverable:
                folded = _WIRE_UTF8.fold(name, value)
            body = folded.removesuffix("\r\n")
            if body == folded or _NEWLINE_WITHOUT_FWSP.search(body) or _OTHER_CONTROLS.search(body):
                raise UnsafeHeader(f"the {name} header would break out of its line")


# --- writing the headers that carry people's words --------------------------------------------

_LINE = 78  # RFC 5322 §2.1.1: SHOULD be no longer
_LONGEST_LINE = 998  # and MUST be no longer
_ENCODED_WORD = 75  # RFC 2047 §2
# RFC 5322 §3.2.3 atext: a word of a display name that needs neither quotes nor encoding.
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
# Printable ASCII with single spaces between words: a Subject written as it is.
_PLAIN_TEXT = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def _encoded_word(text: str) -> str:
    # B rather than Q: the one encoding RFC 2047 §5 allows unchanged in a display name too.
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode('ascii')}?="


def _encoded_words(text: str, first: int = _ENCODED_WORD) -> list[str]:
    """`text` as encoded words of whole characters, each at most 75 characters long (the first
    at most `first`), every space inside a word: readers drop the white space between two
    encoded words (RFC 2047 §6.2), so only what is inside them is read."""
    words: list[str] = []
    chunk = ""
    for char in text:
        if chunk and len(_encoded_word(chunk + char)) > (first if not words else _ENCODED_WORD):
            words.append(_encoded_word(chunk))
            chunk = ""
        chunk += char
    if chunk:
        words.append(_encoded_word(chunk))
    return words


def _lines(name: str, tokens: Iterable[str], linesep: str) -> str:
    """`Name: token token…` folded before a token where a line would pass 78 characters.
    Unfolding (RFC 5322 §2.2.3) turns each fold back into the one space it replaced."""
    lines = [f"{name}:"]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > _LINE and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += f" {token}"
    return linesep.join(lines) + linesep


def _fits(folded: str, linesep: str) -> bool:
    return all(len(line) <= _LONGEST_LINE for line in folded.split(linesep))


def _words_of_text(name: str, text: str, linesep: str) -> str:
    """An unstructured header (Subject): plain ASCII as it is, anything else encoded whole."""
    if _PLAIN_TEXT.fullmatch(text) and "=?" not in text:
        folded = _lines(name, text.split(" "), linesep)
        if _fits(folded, linesep):
            return folded
    return _lines(name, _encoded_words(text, first=_LINE - len(name) - 2), linesep)


def _display_name(name: str) -> list[str]:
    """The words of a display name (RFC 5322 §3.4 phrase).

    ASCII words that are atoms stay as they are; each run of the other words (with the spaces
    between them) is one encoded word. Two encoded words side by side would be read apart:
    RFC 2047 readers drop the space between them, Python's parser keeps it. So a run is one
    encoded word even past the 75 characters RFC 2047 §2 asks for (readers take it); only a
    run too long for a header line at all (some 700 bytes of UTF-8) is split.
    """
    if name.isascii() and "=?" not in name:
        words = name.split(" ")
        if all(_ATOM.fullmatch(word) for word in words):
            return words
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return [f'"{quoted}"']
    tokens: list[str] = []
    run: list[str] = []
    for word in name.split(" "):
        if _ATOM.fullmatch(word) and "=?" not in word and "?=" not in word:
            if run:
                tokens += _run(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += _run(" ".join(run))
    return tokens


def _run(text: str) -> list[str]:
    whole = _encoded_word(text)
    return [whole] if len(whole) < _LONGEST_LINE - 2 else _encoded_words(text)


def _mailboxes(name: str, mailboxes: Iterable[Address], utf8: bool, linesep: str) -> str:
    tokens: list[str] = []
    for address in mailboxes:
        if tokens:
            tokens[-1] += ","
        spec = addresses.on_the_wire(address.addr_spec, smtputf8=utf8)
        if address.display_name:
            tokens += [*_display_name(address.display_name), f"<{spec}>"]
        else:
            tokens.append(spec)
    return _lines(name, tokens, linesep)


def mailbox_line(header: str, mailbox: Address, *, utf8: bool) -> bytes:
    """`header: mailbox` (To, say) as the bytes a message built with POLICY holds on the wire
    in the relay form `utf8` (policy.SMTPUTF8, else policy.SMTP), without building a message:
    for a fan-out, which writes thousands. Raises UnsafeHeader as verify_headers would, and
    mail.addresses.Undeliverable for an address only SMTPUTF8 carries when `utf8` is False."""
    folded = _mailboxes(header, [mailbox], utf8, "\r\n")
    body = folded.removesuffix("\r\n")
    if _NEWLINE_WITHOUT_FWSP.search(body) or _OTHER_CONTROLS.search(body):
        raise UnsafeHeader(f"the {header} header would break out of its line")
    return folded.encode("utf-8" if utf8 else "ascii")


# The registry joins BaseHeader to each class (HeaderRegistry.__getitem__), which gives them
# `name` and `fold`; the stubs cannot say so, hence the casts and ignores.
class _Text(UniqueUnstructuredHeader):
    def fold(self, *, policy: Policy) -> str:
        name = str(self.name)  # type: ignore[attr-defined]
        if not str(self):
            return str(super().fold(policy=policy))  # type: ignore[misc]
        return _words_of_text(name, str(self), policy.linesep)


class _Mailbox(UniqueAddressHeader):
    def fold(self, *, policy: Policy) -> str:
        folded = _fold_mailboxes(self, policy)
        return folded if folded is not None else str(super().fold(policy=policy))  # type: ignore[misc]


class _MailboxList(AddressHeader):
    def fold(self, *, policy: Policy) -> str:
        folded = _fold_mailboxes(self, policy)
        return folded if folded is not None else str(super().fold(policy=policy))  # type: ignore[misc]


def _fold_mailboxes(header: AddressHeader, policy: Policy) -> str | None:
    """The header folded by the rules above; None for a named group (none of our mail has
    one), left to the library."""
    if any(group.display_name is not None for group in header.groups):
        return None
    mailboxes = [address for group in header.groups for address in group.addresses]
    utf8 = bool(getattr(policy, "utf8", False))
    return _mailboxes(str(header.name), mailboxes, utf8, policy.linesep)  # type: ignore[attr-defined]


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", cast("type[BaseHeader]", _Text))
for _name in ("from", "to", "reply-to"):
    _HEADERS.map_to_type(_name, cast("type[BaseHeader]", _Mailbox))
_HEADERS.map_to_type("cc", cast("type[BaseHeader]", _MailboxList))

# The policy every message of ours is built with. Where the runtime has it, the generator
# itself also refuses a header that would break into several lines; on older runtimes
# verify_headers() above is the only check.
POLICY = (
    policy.default.clone(header_factory=_HEADERS, verify_generated_headers=True)
    if hasattr(policy.default, "verify_generated_headers")
    else policy.default.clone(header_factory=_HEADERS)
)
