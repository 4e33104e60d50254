"""A request id for every request, and one access line for each, naming no token.

The id is the client's (or the proxy's) `X-Request-ID` when it is well formed, else a new
one; it goes back in the answer's `X-Request-ID` and into every line logged while the
request is answered (foundation.logs). The access line names the route template
(`/manage/{token}`), never the concrete path, which may hold a manage or feed token.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation import metrics
from foundation.logs import request_id
from foundation.route_index import RouteIndex

log = logging.getLogger("lunchkafe.access")

HEADER = "x-request-id"
# Nothing a log line or a header could be tricked by: no spaces, quotes or line breaks.
WELL_FORMED = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)
UNMATCHED = "<unmatched>"


def incoming_id(scope: Scope) -> str:
    """The request's own `X-Request-ID` if it is well formed, else a new uuid4 hex."""
    for name, value in scope["headers"]:
        if name == HEADER.encode():
            text: str = value.decode("latin-1")
            if WELL_FORMED.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(routes: RouteIndex, scope: Scope) -> str:
    """The path template of the route the router picks for `scope`, or UNMATCHED.

    Matched again here rather than read from the router's `scope["route"]`: the middleware
    in between (foundation.site_origin) hands the router a copy of the scope. Only the
    path's candidates are tried (foundation.route_index), as the router does.
    """
    partial = None
    for route in routes.candidates(get_route_path(scope)):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return _template(route)
        if match == Match.PARTIAL and partial is None:
            partial = route  # the path's route, another method: answered 405
    return UNMATCHED if partial is None else _template(partial)


def _template(route: BaseRoute) -> str:
    if isinstance(route, Route | Mount):
        return route.path_format
    return UNMATCHED


class RequestLog:
    """ASGI middleware: the request id in context and in the answer, then the access line."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = RouteIndex(list(routes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = incoming_id(scope)
        token = request_id.set(current)
        started = time.perf_counter()
        status = 500  # unless an answer begins

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = current
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_template(self.routes, scope)
            seconds = time.perf_counter() - started
            # The template, as in the line below: a token in a path never becomes a label.
            metrics.request_answered(scope["method"], route, status, seconds)
            duration_ms = round(seconds * 1000, 1)
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                route,
                status,
                duration_ms,
                extra={
                    "route": route,
                    "method": scope["method"],
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            request_id.reset(token)
