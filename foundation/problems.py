"""API errors as problem details (RFC 9457, formerly RFC 7807): application/problem+json.

Every error the JSON API answers has the standard members `type`, `title`, `status` and
`detail`, and the extension members this API has always had: `code`, a stable machine word
(`not_found`, `invalid`, `not_open`, …) and, for 422, `fields`, mapping each request field to
its message. The same values stay under `error` ({code, message, fields}), the shape of
version 1, so clients written against it keep working.

`Problem` is that shape as a pydantic model: `problem()` builds every body through it, and
the OpenAPI document (foundation.openapi) describes every error answer with its schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from foundation.errors import DomainError

PROBLEM_JSON = "application/problem+json"
_FIELDS = "Each invalid request field mapped to a message (422 only)"
_RETRY_AFTER = "Seconds to wait before trying again, as in the Retry-After header (429 only)"


class ProblemError(BaseModel):
    """The `error` member: the error as the first version of the API answered it."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str = Field(description="The same as `detail`")
    fields: dict[str, str] | None = Field(default=None, description=_FIELDS)
    retry_after: int | None = Field(default=None, ge=0, description=_RETRY_AFTER)


class Problem(BaseModel):
    """Problem details (RFC 9457). `code`, `fields` and `retry_after` are this API's
    extension members; `error` repeats them in the shape of earlier versions. Further
    extension members may come (RFC 9457 §3.2: clients ignore those they do not know)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        default="about:blank",
        description="about:blank: `title` is the HTTP status phrase (RFC 9457 §4.2.1)",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str = Field(description="The HTTP status phrase, in English")
    status: int = Field(ge=400, le=599, description="The HTTP status code")
    detail: str = Field(description="What went wrong, a sentence in Swedish for people")
    code: str = Field(
        description="What went wrong, a stable word for programs: not_found, invalid, "
        "not_open, rate_limited, bad_json, unsupported_media_type, too_large, …"
    )
    retry_after: int | None = Field(default=None, ge=0, description=_RETRY_AFTER)
    fields: dict[str, str] | None = Field(default=None, description=_FIELDS)
    error: ProblemError


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem response. `detail` is a Swedish sentence for a person; `code` is for programs.

    `type` is "about:blank" (RFC 9457 §4.2.1), so `title` is the HTTP status phrase and
    `code` tells the problems apart. `extensions` are further members (`retry_after`, …),
    in the body and under `error`.
    """
    copied = dict(fields) if fields is not None else None
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        fields=copied,
        error=ProblemError(code=code, message=detail, fields=copied, **extensions),
        **extensions,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def problem_for(error: DomainError) -> JSONResponse:
    """The problem document of a domain error: its status, code, Swedish message, field
    messages (422), headers (429's Retry-After) and extension members."""
    return problem(
        error.status,
        error.code,
        error.message,
        fields=error.fields or None,
        headers=error.headers or None,
        **error.extensions,
    )
