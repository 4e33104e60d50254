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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from foundation.errors import N_

# Swedish msgids, as every field error's: the API returns them as they are.
MSG_STRING = N_("Måste vara en textsträng.")
MSG_BOOLEAN = N_("Måste vara true eller false.")
MSG_INTEGER = N_("Måste vara ett heltal.")
MSG_INVALID = N_("Ogiltigt värde.")
# Pydantic's error types (docs.pydantic.dev, "Validation Errors") and what they mean here.
MESSAGES = {
    "string_type": MSG_STRING,
    "bool_type": MSG_BOOLEAN,
    "int_type": MSG_INTEGER,
    "int_from_float": MSG_INTEGER,
}


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
