"""The development mailbox: with no SMTP_URL, mail lands as .eml files an organiser can read."""

from __future__ import annotations

import builtins
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

# A UTC timestamp down to the microsecond, then randomness so that two processes writing in
# the same microsecond do not collide. Names sort by delivery time, and the id is the name.
_STAMP = "%Y%m%dT%H%M%S%fZ"
_ID = re.compile(r"\A\d{8}T\d{12}Z-[0-9a-f]{8}\Z")
_SUFFIX = ".eml"
_CALENDAR_TYPES = ("text/calendar", "application/ics")


@dataclass(frozen=True)
class MailboxEntry:
    id: str
    delivered_at: datetime
    to: str
    subject: str


class LocalMailbox:
    """A directory of .eml files. Blocking file I/O on small files; call from a thread pool.

    It stands in for the relay, so it writes each message as a relay with or without SMTPUTF8
    (`smtputf8`, Settings.smtp_utf8) would receive it: the addresses UTF-8 or ASCII with the
    domain in A-labels (mail/addresses.py), never an encoded word inside an address.
    """

    def __init__(self, directory: Path, *, smtputf8: bool = False) -> None:
        self.directory = directory
        self._last: datetime | None = None
        self._policy = policy.SMTPUTF8 if smtputf8 else policy.SMTP

    def deliver(self, message: EmailMessage) -> str:
        """Store the message and return its id. Raises mail.addresses.Undeliverable for an
        address that only SMTPUTF8 carries, when this mailbox stands in for a relay without."""
        data = message.as_bytes(policy=self._policy)
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        # Two deliveries inside one clock tick, or a clock stepped back, must still list in
        # the order they were delivered.
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        message_id = f"{now.strftime(_STAMP)}-{secrets.token_hex(4)}"
        final = self._path(message_id)
        # A reader listing the directory must never parse a half-written file, so write under
        # a name it ignores and rename, which is atomic within one directory. No fsync: losing
        # the last development mail in a power cut is acceptable, slowing every delivery is not.
        partial = self.directory / f".{message_id}.tmp"
        partial.write_bytes(data)
        os.replace(partial, final)
        return message_id

    def list(self) -> builtins.list[MailboxEntry]:
        """Every message, newest first, read from headers only."""
        if not self.directory.is_dir():
            return []
        ids = sorted(
            (path.name.removesuffix(_SUFFIX) for path in self.directory.glob(f"*{_SUFFIX}")),
            reverse=True,
        )
        entries = []
        parser = BytesParser(policy=policy.default)
        for message_id in ids:
            if not _ID.match(message_id):
                continue
            try:
                with self._path(message_id).open("rb") as file:
                    headers = parser.parse(file, headersonly=True)
            except FileNotFoundError:
                # Deleted by hand between listing and reading; not an error worth a 500.
                continue
            entries.append(
                MailboxEntry(
                    id=message_id,
                    delivered_at=_delivered_at(message_id),
                    to=str(headers.get("To", "")),
                    subject=str(headers.get("Subject", "")),
                )
            )
        return entries

    def get(self, message_id: str) -> EmailMessage | None:
        """The stored message, or None for an unknown id or one that is not of our form.

        Only generated ids are accepted, so an id from a URL cannot name a file elsewhere.
        """
        if not _ID.match(message_id):
            return None
        try:
            data = self._path(message_id).read_bytes()
        except FileNotFoundError:
            return None
        parsed = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)  # policy.default always builds EmailMessage
        return parsed

    def invite(self, message_id: str) -> bytes | None:
        """The calendar invite (the iCalendar bytes) the message carries, for "download invite"."""
        message = self.get(message_id)
        return None if message is None else calendar_part(message)

    def _path(self, message_id: str) -> Path:
        return self.directory / f"{message_id}{_SUFFIX}"


def calendar_part(message: EmailMessage) -> bytes | None:
    """The first text/calendar (or application/ics) part's decoded bytes, if any."""
    for part in message.walk():
        if part.get_content_type() in _CALENDAR_TYPES:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    return None


def _delivered_at(message_id: str) -> datetime:
    stamp = message_id.split("-", 1)[0]
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
