"""The JSON API's routes carry their own contract, and the OpenAPI 3.1 document is read off them.

An `ApiRoute` is a Starlette route with an `Operation`: a summary, the pydantic model of its
request body, and for each status it answers, the model of that answer's body (an error
status answers a problem document, foundation.problems, RFC 9457). `document()` walks a route
table and writes the OpenAPI document from those models and the routes' own paths, so what
is documented is what is routed and what the models say, never a copy of either.

Versions: every path lives under `/api/v1/` (the major version in the path, as DIGG's REST
API profile for Swedish public-sector APIs recommends), and `versioned()` also routes it at
its older unversioned place under `/api/`, documented as a deprecated alias. Routes added
after the first version (the organiser API) have no such past: `v1_only()` routes them at
`/api/v1/` alone.

An operation marked `bearer` takes an organiser's personal access token (RFC 6750); the
document declares the scheme once (`components.securitySchemes`) and each such operation
names it in its `security`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from starlette.convertors import Convertor, StringConvertor
from starlette.routing import BaseRoute, Route

from foundation.ids import MAX_ID, IdConvertor
from foundation.problems import PROBLEM_JSON, Problem

VERSIONED = "/api/v1"
UNVERSIONED = "/api"  # the first version's paths, kept as aliases
OPENAPI_VERSION = "3.1.0"
BEARER_SCHEME = "organiserToken"  # the security scheme's name in the document
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An organiser's personal access token, made in the workspace at "
    "/organiser/tokens or with `lunchkafe organisers token`, sent as "
    "`Authorization: Bearer <token>` (RFC 6750). It acts with its owner's role.",
}
_COMPONENTS = "#/components/schemas/"
ALIAS_OF = "x-alias-of"  # an alias's versioned path (a specification extension)

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class Reply:
    """One documented answer. `model` is its JSON body's model; None for an error status
    means a problem document (foundation.problems.Problem), and for a success no body.
    `headers` maps a header's name to its OpenAPI Header Object (RFC 9110 header semantics)."""

    description: str
    model: type[BaseModel] | None = None
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What an API route does: `summary` (one line), `replies` by HTTP status, `body` the
    model of its JSON request body (None: no body). `public` marks a read that any site
    may embed: it is answered with CORS headers (foundation.cors). `bearer` marks one that
    takes an organiser's access token (organisers.access.requires_token). `headers` maps a
    request header it reads to its Parameter Object's fields (`description`, `required`,
    `schema`)."""

    summary: str
    replies: Mapping[int, Reply]
    body: type[BaseModel] | None = None
    description: str = ""
    public: bool = False
    bearer: bool = False
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class ApiRoute(Route):
    """A route of the JSON API: one method, its `operation`, and `alias_of`, the versioned
    route this one repeats at an older place (None for the versioned route itself)."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        method: Method,
        operation: Operation,
        alias_of: ApiRoute | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(path, endpoint, methods=[method], name=name)
        self.method = method
        self.operation = operation
        self.alias_of = alias_of


def versioned(
    path: str,
    endpoint: Callable[..., Any],
    *,
    method: Method,
    operation: Operation,
    name: str | None = None,
) -> list[ApiRoute]:
    """The route at `/api/v1{path}` (named `name`, for url_for) and its alias at `/api{path}`."""
    current = ApiRoute(VERSIONED + path, endpoint, method=method, operation=operation, name=name)
    alias = ApiRoute(
        UNVERSIONED + path, endpoint, method=method, operation=operation, alias_of=current
    )
    return [current, alias]


def v1_only(
    path: str,
    endpoint: Callable[..., Any],
    *,
    method: Method,
    operation: Operation,
    name: str | None = None,
) -> list[ApiRoute]:
    """The route at `/api/v1{path}` alone: for routes that never had an unversioned place."""
    return [ApiRoute(VERSIONED + path, endpoint, method=method, operation=operation, name=name)]


def api_routes(routes: Iterable[BaseRoute]) -> list[ApiRoute]:
    """The API's routes among `routes`, in order."""
    return [route for route in routes if isinstance(route, ApiRoute)]


class _Schema(GenerateJsonSchema):
    """Pydantic's JSON Schema (2020-12, the dialect of OpenAPI 3.1) without a `title` on
    every property: the property's name says it."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def parameter_schema(convertor: Convertor[Any]) -> dict[str, Any]:
    """The JSON Schema of a path parameter, from the convertor that matches it: an id is an
    integer 1..2³¹−1 (foundation.ids), any other segment a non-empty string."""
    if isinstance(convertor, IdConvertor):
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    assert isinstance(convertor, StringConvertor), f"undocumented convertor {convertor!r}"
    return {"type": "string", "minLength": 1}


def _operation_id(route: ApiRoute) -> str:
    name = getattr(route.endpoint, "__name__", route.method.lower())
    return f"{name}_unversioned" if route.alias_of else name


def document(
    routes: Iterable[BaseRoute], *, title: str, version: str, description: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the ApiRoutes in `routes`: each path as routed (a
    convertor's name dropped: `/api/v1/events/{event_id}`), its parameters' schemas from
    their convertors, bodies and answers from the operations' pydantic models, and one
    `Problem` component for every error. Raises AssertionError for a path parameter whose
    convertor it cannot describe."""
    # The versioned operations first, then the aliases, each in the order routed.
    found = sorted(api_routes(routes), key=lambda route: route.alias_of is not None)
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (Problem, "serialization")
    ]
    for route in found:
        if route.operation.body is not None:
            models.append((route.operation.body, "validation"))
        models.extend(
            (reply.model, "serialization")
            for reply in route.operation.replies.values()
            if reply.model is not None
        )
    refs, defs = models_json_schema(
        list(dict.fromkeys(models)), ref_template=_COMPONENTS + "{model}", schema_generator=_Schema
    )
    problem = refs[(Problem, "serialization")]

    paths: dict[str, dict[str, Any]] = {}
    for route in found:
        operation = route.operation
        item: dict[str, Any] = {"operationId": _operation_id(route), "summary": operation.summary}
        if route.alias_of:
            item["deprecated"] = True
            item["description"] = (
                f"Alias of `{route.method} {route.alias_of.path_format}`, kept for clients "
                "of the unversioned API; it answers the same."
            )
            item[ALIAS_OF] = route.alias_of.path_format
        elif operation.description:
            item["description"] = operation.description
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": parameter_schema(conv)}
            for name, conv in route.param_convertors.items()
        ] + [{"name": name, "in": "header", **spec} for name, spec in operation.headers.items()]
        if parameters:
            item["parameters"] = parameters
        if operation.body is not None:
            schema = refs[(operation.body, "validation")]
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        if operation.bearer:
            item["security"] = [{BEARER_SCHEME: []}]
        item["responses"] = {
            str(status): _reply(status, reply, refs, problem)
            for status, reply in sorted(operation.replies.items())
        }
        paths.setdefault(route.path_format, {})[route.method.lower()] = item

    components: dict[str, Any] = {"schemas": defs.get("$defs", {})}
    if any(route.operation.bearer for route in found):
        components["securitySchemes"] = {BEARER_SCHEME: BEARER}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": components,
    }


def _reply(
    status: int,
    reply: Reply,
    refs: Mapping[Any, Any],
    problem: Any,
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    if reply.model is not None:
        schema = refs[(reply.model, "serialization")]
        answer["content"] = {"application/json": {"schema": schema}}
    elif status >= 400:
        answer["content"] = {PROBLEM_JSON: {"schema": problem}}
    if reply.headers:
        answer["headers"] = {name: dict(header) for name, header in reply.headers.items()}
    return answer


def operations(document: Mapping[str, Any]) -> Sequence[tuple[str, str, Mapping[str, Any]]]:
    """(path, METHOD, operation) for every operation in an OpenAPI `document`, in order."""
    return [
        (path, method.upper(), operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
