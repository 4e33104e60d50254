"""Request bodies are capped while they stream: 413 before an oversized body is read.

Nothing here takes uploads, so every body is a small form or a small JSON object. A limit
checked after `request.body()` or `request.form()` comes too late: the whole body has
been read into memory (or parsed field by field) by then. This middleware sits in front of
every route, answers 413 at once when `Content-Length` is over the limit, and counts the
bytes of bodies without one (chunked), stopping with 413 the moment the limit is passed.
A route that answers without reading the body it was sent (GET / with a chunked body) closes
the connection, so the server does not read the rest of an unbounded body to keep it alive.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.error_pages import domain_error
from foundation.errors import N_, DomainError

API_LIMIT = 20_000  # bytes; a registration is a few hundred
FORM_LIMIT = 64 * 1024  # bytes; a booking form is under 2 kB, CSRF token included
# Bytes; the organiser API takes descriptions and messages of 20,000 characters, which JSON
# may send as \uXXXX escapes (12 bytes for a character outside the BMP). Only organisers
# with a token get past the gate, but the limit holds before it.
ORGANISER_API_LIMIT = 256 * 1024
ORGANISER_API = "/api/v1/organiser/"
# Bytes; the guide's editor takes an example's body of 50,000 characters, which a form sends
# as up to 9 bytes a character (%E2%80%93 for "–"). Read before the sign-in gate, as above.
GUIDE_EDITOR_LIMIT = 512 * 1024
GUIDE_EDITOR = "/organiser/guide/"

MSG_TOO_LARGE = N_("För stor begäran.")

# RFC 9110 15.5.14: closing is how the server stops a client that is still sending; on a
# kept-alive connection uvicorn would read (and discard) the rest of the body first.
_CLOSE = {"connection": "close"}


def limit_for(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    if path.startswith(ORGANISER_API):
        return ORGANISER_API_LIMIT
    if path.startswith(GUIDE_EDITOR):
        return GUIDE_EDITOR_LIMIT
    return API_LIMIT if path.startswith("/api/") else FORM_LIMIT


class BodyTooLarge(DomainError):
    """Over the limit: raised from `receive` when a body without Content-Length passes it.

    Answered 413 (a problem under /api/, the error page elsewhere), and the connection closes.
    """

    code = "too_large"
    status = 413

    def __init__(self) -> None:
        super().__init__(MSG_TOO_LARGE, headers=_CLOSE)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we see it
    return None


def _has_body(scope: Scope, declared: int | None) -> bool:
    if declared is not None:
        return declared > 0
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


class BodyLimit:
    """ASGI middleware: no app behind it sees more than `limit_for(path)` bytes of body.

    Over a declared Content-Length it answers 413 without calling the app. A chunked body
    is counted in `receive`, which raises BodyTooLarge once past the limit; the app's
    handler for it (or this middleware, if the app has none) answers 413.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        started = False
        body_read = not _has_body(scope, declared)

        async def counted_receive() -> Message:
            nonlocal received, body_read
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
                body_read = body_read or not message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                closing = any(
                    name.lower() == b"connection" and b"close" in value.lower()
                    for name, value in headers
                )
                # Answered before the body ended: do not read the rest (once, not twice when
                # the answer already says so, as a 413 does).
                if not body_read and not closing:
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:  # an answer is under way; only the server can close the connection
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await domain_error(Request(scope), BodyTooLarge())
        await response(scope, receive, send)
