"""A JSON request body's members checked for their types against the request's pydantic model.

The model is the contract (foundation.openapi documents it); this checks its shape: a text
member must be a JSON string, a flag `true` or `false`, with no coercion (pydantic's strict
mode: `1` is not `true`, `5` is not `"5"`). Each member of the wrong type gets a Swedish
message, as every field error of the API does. What a value must say beyond its type (a name
holds a letter, an address is an address, consent is given) is the domain's rule, which the
forms share, so the handler hands the well-typed values to the domain function that checks
them and answers both kinds of error together in one 422.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from foundation.errors import N_
from foundation.json_body import MSG_FIELDS, BodyRefused
from foundation.text import MSG_REQUIRED, MSG_TOO_LONG, refused_character

# Swedish msgids, as every field error's: the API returns them as they are.
MSG_STRING = N_("Måste vara en textsträng.")
MSG_BOOLEAN = N_("Måste vara true eller false.")
MSG_INTEGER = N_("Måste vara ett heltal.")
MSG_INVALID = N_("Ogiltigt värde.")
MSG_MOMENT = N_("Skriv tiden enligt RFC 3339, med sekunder och tidszon: 2026-12-03T12:00:00+01:00.")
MSG_UNKNOWN = N_("Okänt fält.")
MSG_UNKNOWN_FIELDS = N_("Kroppen innehåller fält som inte finns.")
# A member name said back to the client at most this long, and only as plain text.
MAX_NAMED = 64
# Pydantic's error types (docs.pydantic.dev, "Validation Errors") and what they mean here.
MESSAGES = {
    "string_type": MSG_STRING,
    "bool_type": MSG_BOOLEAN,
    "int_type": MSG_INTEGER,
    "int_from_float": MSG_INTEGER,
    "string_too_long": MSG_TOO_LONG,
    "missing": MSG_REQUIRED,
    "moment": MSG_MOMENT,
}
Model = TypeVar("Model", bound=BaseModel)
# RFC 3339 §5.6 date-time (the JSON Schema format "date-time"): seconds and an offset required.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _moment(value: object) -> object:
    """A JSON string in RFC 3339 as an aware datetime; anything else is refused here, before
    pydantic would read a number as seconds since 1970 or a date as its midnight."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("moment")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:  # a day or an hour no calendar has
        raise ValueError("moment") from None


# A member that is an instant: RFC 3339 text with its offset, as the document says.
Moment = Annotated[
    datetime, BeforeValidator(_moment), Field(json_schema_extra={"format": "date-time"})
]


@dataclass(frozen=True)
class TypedBody:
    """`values`: the members `model` declares whose JSON type is right; `errors`: a message
    for each that is not. A member that is absent or null is in neither: what a missing
    value means (a required field left empty) is the domain rule's to say."""

    values: dict[str, Any]
    errors: dict[str, str]

    def text(self, name: str) -> str:
        """The member `name` as text; "" when absent, null or of the wrong type."""
        value = self.values.get(name, "")
        return value if isinstance(value, str) else ""

    def flag(self, name: str) -> bool:
        """Whether the member `name` is `true`."""
        return self.values.get(name) is True


def typed_body(model: type[BaseModel], body: Mapping[str, Any]) -> TypedBody:
    """`body`'s members checked against `model` in pydantic's strict mode.

    Members the model does not declare are ignored; the first error of a member decides its
    message (MESSAGES, else MSG_INVALID).
    """
    given = {name: body[name] for name in model.model_fields if body.get(name) is not None}
    errors: dict[str, str] = {}
    try:
        model.model_validate(given, strict=True)
    except ValidationError as exc:
        for error in exc.errors():
            if error["type"] == "missing" or not error["loc"]:
                continue
            errors.setdefault(str(error["loc"][0]), MESSAGES.get(error["type"], MSG_INVALID))
    values = {name: value for name, value in given.items() if name not in errors}
    return TypedBody(values=values, errors=errors)


def _sayable(name: str) -> bool:
    return 0 < len(name) <= MAX_NAMED and refused_character(name) is None and name.isprintable()


def validated(model: type[Model], body: Mapping[str, Any]) -> Model:
    """`body` as `model` (whose config should be strict: no coercion), every fault at once.

    Raises BodyRefused, 422 with `fields`: each declared member that is missing, of the
    wrong type, too long or not an RFC 3339 instant (`Moment`), with a Swedish message; and
    each member the model does not declare (MSG_UNKNOWN), so a misspelt `venu` is never
    taken as "left out". An unknown name is said back only when it is short plain text;
    any other stands as `body`.
    """
    unknown = [name for name in body if name not in model.model_fields]
    if unknown:
        named = {
            name if _sayable(name) else "body": MSG_UNKNOWN
            if _sayable(name)
            else MSG_UNKNOWN_FIELDS
            for name in unknown[:20]
        }
        raise BodyRefused(422, "invalid", MSG_FIELDS, named)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            if not error["loc"] or error["loc"][0] not in model.model_fields:
                continue
            kind = (
                "moment"
                if str(error.get("ctx", {}).get("error", "")) == "moment"
                else error["type"]
            )
            fields.setdefault(str(error["loc"][0]), MESSAGES.get(kind, MSG_INVALID))
        raise BodyRefused(422, "invalid", MSG_FIELDS, fields or {"body": MSG_INVALID}) from None
