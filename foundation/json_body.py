"""One parser for JSON request bodies of the API: every way a body can be wrong is a 4xx.

What it accepts is I-JSON (RFC 7493): UTF-8 (RFC 8259 §8.1), an object at the top, no
duplicate member names, no NaN or Infinity, and no lone surrogates (`"\\ud800"` is valid
JSON syntax but no encoding can carry it, so it would fail later, when stored or mailed).
Nesting deep enough to exhaust the parser's recursion (a few kB of `[`) is refused too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from typing import Any

from starlette.requests import Request

from foundation.errors import N_, DomainError
from foundation.text import MSG_CONTROL

MSG_MEDIA_TYPE = N_("Skicka JSON (application/json).")
MSG_NOT_JSON = N_("Kroppen är inte giltig JSON.")
MSG_NOT_OBJECT = N_("Kroppen måste vara ett JSON-objekt.")
MSG_TOO_DEEP = N_("Kroppen är för djupt nästlad.")
MSG_NOT_TEXT = N_("Kroppen innehåller tecken som inte är text (ensamma surrogattecken).")
MSG_FIELDS = N_("Formuläret innehåller fel.")


class BodyRefused(DomainError):
    """The body cannot be used: 400 `bad_json`, or 422 `invalid` with `fields`."""

    def __init__(
        self, status: int, code: str, msgid: str, fields: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        super().__init__(msgid, fields=fields)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    """A number as a float; one too large for a double (`1e999`) is no I-JSON number
    (RFC 7493 §2.2), where Python would make it infinity."""
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # Parsers disagree on which duplicate wins (RFC 8259 §4), so neither is trusted.
        raise ValueError("duplicate member name")
    return result


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # only lone surrogates fail here
        return False
    return True


def _all_text(value: Any) -> bool:
    """Whether every string (member names included) in a parsed value is encodable text.

    Walks with an explicit stack: the value may be nested as deep as the parser allowed.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _is_text(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def parse_json_object(raw: bytes, declared: Collection[str] = ()) -> dict[str, Any]:
    """The JSON object in `raw`. Raises BodyRefused: 400 for anything that is not an
    I-JSON object, 422 (with `fields`) when a `declared` member's text is not text.

    Only `declared` member names are ever named back: a name the client made up is not
    repeated in the answer (it could carry any words a client shows its user).
    """
    try:
        body = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_refuse_constant,
            parse_float=_finite,
        )
    except RecursionError:
        raise BodyRefused(400, "bad_json", MSG_TOO_DEEP) from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, too many digits, duplicates
        raise BodyRefused(400, "bad_json", MSG_NOT_JSON) from None
    if not isinstance(body, dict):
        raise BodyRefused(400, "bad_json", MSG_NOT_OBJECT)
    # A surrogate in a field's value is that field's error, as the text rule would say it.
    fields = {
        name: MSG_CONTROL
        for name, value in body.items()
        if name in declared and isinstance(value, str) and not _is_text(value)
    }
    if fields:
        raise BodyRefused(422, "invalid", MSG_FIELDS, fields)
    if not _all_text(body):
        raise BodyRefused(400, "bad_json", MSG_NOT_TEXT)
    return body


async def json_object(request: Request, declared: Collection[str] = ()) -> dict[str, Any]:
    """The request's JSON object. Raises BodyRefused: 415 for another media type, else as
    `parse_json_object` does; the app answers it as a problem document.

    The body's size is capped before this reads it, while it streams (foundation.body_limit).
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        # Requiring JSON keeps plain cross-site forms from reaching the API.
        raise BodyRefused(415, "unsupported_media_type", MSG_MEDIA_TYPE)
    return parse_json_object(await request.body(), declared)
