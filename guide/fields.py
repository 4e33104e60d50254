"""The checks each field of the guide's material goes through, whoever saves it: the
workspace editor, `lunchkafe guide import`, the demo.

Each check cleans one value and, when it cannot, puts a Swedish msgid under the field's name
in `errors` (so a form shows every fault at once, and an import names every bad field of a
row); the save functions in guide.editing raise them together. Text goes through
foundation.text's rule; Markdown is stored as written and rendered through
foundation.markdown where it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from events.rules import MSG_AT_MOST, MSG_JOIN_URL_INVALID, MSG_JOIN_URL_SCHEME, MSG_SLUG
from foundation.errors import N_, FilledMessage
from foundation.slugs import is_slug
from foundation.text import (
    MSG_REQUIRED,
    MSG_TOO_LONG,
    TextRefused,
    clean_line,
    clean_name,
    clean_text,
    refused_character,
)
from mail.addresses import Undeliverable, deliverable

MSG_EMAIL = N_("Ange en giltig e-postadress, till exempel namn@kommun.se.")
MSG_PHONE = N_("Ange ett telefonnummer med siffror, till exempel 08-123 45 67.")
MSG_TOO_MANY = N_("Högst %(n)d rader.")
MSG_WHOLE_NUMBER = N_("Ange ett heltal mellan %(low)d och %(high)d.")

MAX_LINE_ITEM = 500  # one activity, result, lesson or question
MAX_ITEMS = 30
MAX_URL = 500
MAX_PHONE = 40
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-–]*[0-9]")


def line(
    errors: dict[str, str],
    key: str,
    value: str,
    longest: int,
    *,
    required: str | None = None,
) -> str:
    """One line of text (a title, a name); `required` is the msgid to say when it is empty."""
    try:
        cleaned = clean_line(value, max_length=longest, required=required is not None)
    except TextRefused as exc:
        errors[key] = _said(exc.msgid, longest, required)
        return value
    return cleaned


def optional_line(errors: dict[str, str], key: str, value: str | None, longest: int) -> str | None:
    """One line of text, or None when there is none (a fact box's empty field)."""
    return line(errors, key, value or "", longest) or None


def text(
    errors: dict[str, str], key: str, value: str, longest: int, *, required: str | None = None
) -> str:
    """Text of several lines (Markdown), line breaks kept."""
    try:
        return clean_text(value, max_length=longest, required=required is not None)
    except TextRefused as exc:
        errors[key] = _said(exc.msgid, longest, required)
        return value


def _said(msgid: str, longest: int, required: str | None) -> str:
    if msgid == MSG_REQUIRED and required is not None:
        return required
    if msgid == MSG_TOO_LONG:
        return FilledMessage(MSG_AT_MOST, n=longest)
    return msgid


def items(errors: dict[str, str], key: str, values: Sequence[str]) -> list[str]:
    """An ordered list of one-line texts; empty lines are left out (a form's unused rows)."""
    kept: list[str] = []
    for value in values:
        cleaned = line(errors, key, value, MAX_LINE_ITEM)
        if key in errors:
            return list(values)
        if cleaned:
            kept.append(cleaned)
    if len(kept) > MAX_ITEMS:
        errors[key] = FilledMessage(MSG_TOO_MANY, n=MAX_ITEMS)
    return kept


def slug(errors: dict[str, str], key: str, value: str) -> str:
    if not is_slug(value):
        errors[key] = MSG_SLUG
    return value


def whole_number(
    errors: dict[str, str], key: str, value: int | None, low: int, high: int
) -> int | None:
    """An integer in low..high (None passes: the field is optional)."""
    if value is not None and (isinstance(value, bool) or not low <= value <= high):
        errors[key] = FilledMessage(MSG_WHOLE_NUMBER, low=low, high=high)
    return value


def url(errors: dict[str, str], key: str, value: str | None) -> str | None:
    """An http(s) address with a host, or None for none."""
    address = (value or "").strip()
    if not address:
        return None
    if len(address) > MAX_URL:
        errors[key] = FilledMessage(MSG_AT_MOST, n=MAX_URL)
        return address
    if refused_character(address) is not None or any(c.isspace() for c in address):
        errors[key] = MSG_JOIN_URL_INVALID
        return address
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018  (raises ValueError for a port outside 0..65535)
    except ValueError:
        errors[key] = MSG_JOIN_URL_INVALID
        return address
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        errors[key] = MSG_JOIN_URL_SCHEME
    return address


def person(errors: dict[str, str], key: str, value: str, *, required: str | None = None) -> str:
    """A person's name (foundation.text.clean_name), or "" when none is given and none is
    required."""
    if not value.strip() and required is None:
        return ""
    try:
        return clean_name(value)
    except TextRefused as exc:
        errors[key] = required if exc.msgid == MSG_REQUIRED and required else exc.msgid
        return value


def email(errors: dict[str, str], key: str, value: str) -> str:
    """An e-mail address as mail.addresses stores it, or "" for none. The guide only shows
    it, so an address beyond ASCII is kept (RFC 6531)."""
    if not value.strip():
        return ""
    try:
        return deliverable(value.strip(), smtputf8=True)
    except Undeliverable:
        errors[key] = MSG_EMAIL
        return value


def phone(errors: dict[str, str], key: str, value: str) -> str:
    """A telephone number as people write it ("08-123 45 67", "+46 8 123 45 67"), white
    space folded, or "" for none."""
    number = " ".join(value.split())
    if not number:
        return ""
    if len(number) > MAX_PHONE or not _PHONE.fullmatch(number):
        errors[key] = MSG_PHONE
    return number
