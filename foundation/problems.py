"""API errors as problem details (RFC 9457, formerly RFC 7807): application/problem+json.

Every error the JSON API answers has the standard members `type`, `title`, `status` and
`detail`, and the extension members this API has always had: `code`, a stable machine word
(`not_found`, `invalid`, `not_open`, …) and, for 422, `fields`, mapping each request field to
its message. The same values stay under `error` ({code, message, fields}), the shape of
version 1, so clients written against it keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

from foundation.errors import DomainError

PROBLEM_JSON = "application/problem+json"


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
    `code` tells the problems apart. `extensions` are further members (`retry_after`, …).
    """
    error: dict[str, Any] = {"code": code, "message": detail, **extensions}
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extensions,
    }
    if fields is not None:
        body["fields"] = dict(fields)
        error["fields"] = dict(fields)
    body["error"] = error
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_for(error: DomainError) -> JSONResponse:
    """The problem document of a domain error: its status, code and message."""
    return problem(error.status, error.code, error.message)
