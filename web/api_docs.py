"""The API's OpenAPI document and its documentation page, both read off the app's route table.

The document (foundation.openapi) is built from the routes of the app that answers, so the
routes, the models and what these two show cannot drift apart. The page is a plain site page
(no script, no third-party files: the Content-Security-Policy allows neither), in the
visitor's language; the document's own texts are English, as integrators read them.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from foundation.openapi import (
    ALIAS_OF,
    VERSIONED,
    Operation,
    Reply,
    document,
    operations,
    versioned,
)
from foundation.problems import PROBLEM_JSON
from foundation.rendering import render

TITLE = "Lunchkafé API"
VERSION = "1"
DESCRIPTION = (
    "Upcoming lunch cafés and workshops, and booking a seat without an account. "
    f"The major version is in the path ({VERSIONED}/); the unversioned paths under /api/ "
    "are deprecated aliases that answer the same. The public reads (the events and this "
    "document) send `Access-Control-Allow-Origin: *`, so any site may show them; booking "
    "and cancelling send no CORS headers. Every error is a problem document (RFC 9457, "
    f"{PROBLEM_JSON}). Documentation for people: {VERSIONED}/docs."
)


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document: this one."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


def api_document(request: Request) -> dict[str, Any]:
    """The OpenAPI document of the app answering `request`, built once per app (its routes
    do not change after start) and kept in the app's state."""
    state = request.app.state
    built: dict[str, Any] | None = getattr(state, "openapi_document", None)
    if built is None:
        built = document(request.app.routes, title=TITLE, version=VERSION, description=DESCRIPTION)
        state.openapi_document = built
    return built


async def openapi_json(request: Request) -> Response:
    return JSONResponse(api_document(request))


@dataclass(frozen=True)
class Member:
    """A property of a schema or a parameter, as the page lists it."""

    name: str
    type: str  # in JSON Schema's words: "string", "integer | null", "array of GuideLink"
    ref: str | None  # the schema it refers to, for a link
    required: bool
    rules: list[str]  # JSON Schema keywords and their values: "maxLength: 200"
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media_type: str | None
    type: str | None
    ref: str | None
    headers: list[str]


@dataclass(frozen=True)
class Documented:
    """One operation of the document, as the page shows it."""

    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Member]
    body: str | None  # the request body's schema
    answers: list[Answer]
    alias_of: str | None  # for a deprecated alias, the versioned path


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    members: list[Member]
    values: list[str]  # an enumeration's values
    open: bool  # whether members not listed may come too
    examples: list[str]  # example values, as indented JSON


_CODE = re.compile(r"`([^`]+)`")


def prose(text: str) -> Markup:
    """A description as HTML: escaped, with `backticked` words set as code."""
    parts = _CODE.split(text)  # every second part was between backticks
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if odd else escape(part)
        for odd, part in zip(itertools.cycle((False, True)), parts, strict=False)
    )


_RULES = ("const", "enum", "format", "minLength", "maxLength", "minimum", "maximum")


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _type(schema: Mapping[str, Any]) -> str:
    """A schema's type in JSON Schema's words, `|` between alternatives."""
    name = _ref_name(schema)
    if name:
        return name
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {_type(schema['additionalProperties'])}"
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind is None and "enum" in schema:
        return "string"
    return str(kind or "any")


def _first_ref(schema: Mapping[str, Any]) -> str | None:
    """The first schema `schema` refers to, itself or through items or alternatives."""
    for candidate in (schema, schema.get("items", {}), *schema.get("anyOf", [])):
        name = _ref_name(candidate)
        if name:
            return name
    return None


def _rules(schema: Mapping[str, Any]) -> list[str]:
    found = [*schema.get("anyOf", []), schema]
    shown = []
    for part in found:
        for key in _RULES:
            if key in part:
                value = part[key]
                if isinstance(value, bool):
                    value = str(value).lower()
                elif isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                shown.append(f"{key}: {value}")
    return shown


def _member(name: str, schema: Mapping[str, Any], required: bool) -> Member:
    return Member(
        name=name,
        type=_type(schema),
        ref=_first_ref(schema),
        required=required,
        rules=_rules(schema),
        description=str(schema.get("description", "")),
    )


def _answers(responses: Mapping[str, Any]) -> list[Answer]:
    answers = []
    for status, answer in responses.items():
        content = answer.get("content", {})
        media_type = next(iter(content), None)
        schema = content[media_type]["schema"] if media_type else {}
        answers.append(
            Answer(
                status=status,
                description=answer["description"],
                media_type=media_type,
                type=_type(schema) if media_type else None,
                ref=_first_ref(schema) if media_type else None,
                headers=list(answer.get("headers", {})),
            )
        )
    return answers


def _anchor(method: str, path: str) -> str:
    words = "".join(c if c.isalnum() else "-" for c in path.strip("/"))
    return f"{method.lower()}-{words}".replace("--", "-").strip("-")


def for_page(doc: Mapping[str, Any]) -> tuple[list[Documented], list[Documented], list[Schema]]:
    """The document's versioned operations, its deprecated aliases, and its schemas."""
    current: list[Documented] = []
    aliases: list[Documented] = []
    for path, method, operation in operations(doc):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        shown = Documented(
            anchor=_anchor(method, path),
            method=method,
            path=path,
            summary=operation["summary"],
            description=operation.get("description", ""),
            parameters=[
                _member(p["name"], p["schema"], p.get("required", False))
                for p in operation.get("parameters", [])
            ],
            body=_ref_name(body["schema"]) if body else None,
            answers=_answers(operation["responses"]),
            alias_of=operation.get(ALIAS_OF),
        )
        (aliases if operation.get("deprecated") else current).append(shown)
    schemas = []
    for name, schema in doc["components"]["schemas"].items():
        required = set(schema.get("required", []))
        schemas.append(
            Schema(
                name=name,
                description=str(schema.get("description", "")),
                members=[
                    _member(member, sub, member in required)
                    for member, sub in schema.get("properties", {}).items()
                ],
                values=[str(value) for value in schema.get("enum", [])],
                open=schema.get("type") == "object"
                and schema.get("additionalProperties", True) is not False,
                examples=[
                    json.dumps(example, ensure_ascii=False, indent=2)
                    for example in schema.get("examples", [])
                ],
            )
        )
    return current, aliases, schemas


async def api_docs(request: Request) -> Response:
    doc = api_document(request)
    current, aliases, schemas = for_page(doc)
    context = {
        "doc": doc,
        "operations": current,
        "aliases": aliases,
        "schemas": schemas,
        "problem_json": PROBLEM_JSON,
        "json_media_type": "application/json",
        "prose": prose,
    }
    return render(request, "api/docs.html", context)


OPENAPI = Operation(
    summary="This document: OpenAPI 3.1",
    replies={200: Reply("The OpenAPI document", OpenApiDocument)},
    public=True,
)

routes = [
    *versioned("/openapi.json", openapi_json, method="GET", operation=OPENAPI, name="openapi"),
    Route(f"{VERSIONED}/docs", api_docs, name="api_docs"),
]
