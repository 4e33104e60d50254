"""CORS for the API's public reads, so another site's pages can fetch the list of events.

A browser lets a script on another origin read an answer only when the answer says so
(Fetch standard, "CORS protocol"). The reads that an operation marks `public`
(foundation.openapi) answer GET and HEAD with `Access-Control-Allow-Origin: *`, and a
preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`) at their paths is
answered here with 204 and what may follow. `*` never admits credentials, so no cookie goes
with such a request, and no answer varies by `Origin`.

Everything else, the booking POST and the cancelling DELETE included, gets no CORS header
and no preflight answer (an OPTIONS there is the router's 405): a page on another site can
then neither read what they answer nor send them the JSON they require, so it cannot book
or cancel with its visitor's browser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.openapi import api_routes

_PARAMETER = re.compile(r"\{[^}]*\}")
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")
# The request id lets an integrator point at a request in the logs (foundation.request_log).
EXPOSE = (b"access-control-expose-headers", b"X-Request-ID")
PREFLIGHT: list[tuple[bytes, bytes]] = [
    ALLOW_ORIGIN,
    (b"access-control-allow-methods", b"GET, HEAD"),
    (b"access-control-allow-headers", b"Accept, Accept-Language, X-Request-ID"),
    (b"access-control-max-age", b"86400"),  # seconds; browsers cap it lower
]


class PublicReads:
    """ASGI middleware: CORS headers on the public reads among `routes`, preflights answered."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        # Each parameter widened to any one segment: a read with a malformed id
        # (/api/v1/events/abc) is a 404 that a script on another site may read too, rather
        # than a CORS failure that hides the answer.
        self.paths: list[re.Pattern[str]] = [
            re.compile("^" + "[^/]+".join(map(re.escape, _PARAMETER.split(route.path))) + "$")
            for route in api_routes(routes)
            if route.operation.public
        ]

    def is_public(self, path: str) -> bool:
        return any(pattern.match(path) for pattern in self.paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT})
                await send({"type": "http.response.body", "body": b""})
                return
        if method not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), ALLOW_ORIGIN, EXPOSE]
            await send(message)

        await self.app(scope, receive, send_with_cors)
