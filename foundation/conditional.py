"""Conditional HTTP for calendar files: strong ETag, Last-Modified, 304, HEAD.

Calendar clients poll feeds for ever; answering an unchanged feed with 304 and no body
is what keeps thousands of subscribers cheap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response

CALENDAR_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class CalendarFile:
    body: bytes
    etag: str  # quoted, strong
    last_modified: datetime

    @classmethod
    def of(cls, body: bytes, last_modified: datetime) -> CalendarFile:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body=body, etag=f'"{digest}"', last_modified=last_modified)


def _not_modified(request: Request, file: CalendarFile) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only counts without it.
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or file.etag in tags or f"W/{file.etag}" in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return file.last_modified.replace(microsecond=0) <= since
    return False


def calendar_response(
    request: Request, file: CalendarFile, *, cache_control: str, filename: str | None = None
) -> Response:
    headers = {
        "etag": file.etag,
        "last-modified": format_datetime(file.last_modified.astimezone(UTC), usegmt=True),
        "cache-control": cache_control,
    }
    if _not_modified(request, file):
        return Response(status_code=304, headers=headers)
    if filename:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    if request.method == "HEAD":
        headers["content-length"] = str(len(file.body))
        return Response(status_code=200, headers=headers, media_type=CALENDAR_TYPE)
    return Response(file.body, headers=headers, media_type=CALENDAR_TYPE)
