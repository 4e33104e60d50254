"""What a visitor or a client sees when a request fails: a calm page or a problem, never a trace.

HTTP errors (404, 405, …) render the error page, or a problem document under /api/.
An unexpected exception is logged (its type and traceback; never the request's body, headers
or path, which may hold a token) and answered 500 the same way. The site-wide middleware
(base URL, security headers, token-URL headers, body limits) wraps Starlette's own error
middleware here, so every error answer, 500 included, carries the same headers as a page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from python_multipart.exceptions import FormParserError
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.errors import N_, DomainError
from foundation.i18n import catalogued, translations
from foundation.outage import RETRY_AFTER, UNREACHABLE, is_unreachable
from foundation.problems import PROBLEM_JSON, problem, problem_for
from foundation.rendering import language_of, render, said
from foundation.response_headers import HeaderPolicy
from foundation.route_index import IndexedRouter

log = logging.getLogger("lunchkafe.errors")

# Swedish msgids; the page translates them, the API returns them as they are.
MSG_NOT_FOUND = N_(
    "Det finns ingen sida på den här adressen. Kontrollera länken, eller börja från kalendern."
)
MSG_METHOD_NOT_ALLOWED = N_("Sidan finns, men den går inte att använda på det sättet.")
MSG_BAD_REQUEST = N_("Begäran gick inte att ta emot.")
MSG_SERVER_ERROR = N_("Något gick fel hos oss. Försök igen om en stund.")
MSG_BAD_FORM = N_("Formuläret kom fram trasigt. Ladda om sidan och försök igen.")
MSG_UNAVAILABLE = N_(
    "Tjänsten är tillfälligt otillgänglig. Inget av det du skrev har sparats. "
    "Försök igen om en liten stund."
)

# Codes the API has always answered for errors no handler chose.
_CODES = {404: "not_found", 500: "server_error", 503: "unavailable"}
# What an outage of the database raises: answered by `database_unreachable`.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (*UNREACHABLE, DBAPIError)


def _message(status: int, detail: str) -> str:
    """The handler's own message when it is one of ours (in the catalogue, so it can be said
    in the visitor's language); else ours for the status, never a library's English words
    ("Missing boundary in multipart.") or its bare status phrase."""
    if detail in catalogued():
        return detail
    if status == 404:
        return MSG_NOT_FOUND
    if status == 405:
        return MSG_METHOD_NOT_ALLOWED
    return MSG_SERVER_ERROR if status >= 500 else MSG_BAD_REQUEST


def _answer(request: Request, status: int, msgid: str, headers: Any = None) -> Response:
    if request.url.path.startswith("/api/"):
        code = _CODES.get(status, "http_error")
        return problem(status, code, msgid, headers=headers)
    return _page(request, status, translations(language_of(request)).gettext(msgid), headers)


def _page(request: Request, status: int, message: str, headers: Any) -> Response:
    """The error page; `message` is already in the visitor's language. A signed-in
    organiser (set on request.state by organisers.access) is led back to the workspace."""
    context = {
        "status": status,
        "message": message,
        "workspace": getattr(request.state, "organiser", None) is not None,
    }
    response = render(request, "error.html", context, status_code=status)
    if headers:
        response.headers.update(headers)
    return response


async def domain_error(request: Request, exc: Exception) -> Response:
    """A DomainError no handler answered itself: the error page in the visitor's language
    with its status, or its problem document under /api/ (foundation.problems)."""
    assert isinstance(exc, DomainError)
    if request.url.path.startswith("/api/"):
        return problem_for(exc)
    return _page(request, exc.status, said(request, exc), exc.headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """HTTPException → error page or problem, keeping its headers (405's `Allow`, made
    whole by `_allowed`, …)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed(request) or headers.get("Allow", "")
    return _answer(
        request, exc.status_code, _message(exc.status_code, exc.detail), headers=headers or None
    )


def _allowed(request: Request) -> str | None:
    """Every method that some route at the request's path accepts (RFC 9110 §15.5.6: Allow
    lists the target resource's methods). A page and its form's action are two routes at
    one path, and Starlette's 405 names only the first one's methods. None when no plain
    route is at the path (a mount answers for itself)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            matched, _ = route.matches(request.scope)
            if matched is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods)) or None


async def bad_form(request: Request, exc: Exception) -> Response:
    """A form body the multipart parser cannot read → 400.

    Starlette turns its own MultiPartException into a 400, but lets python-multipart's
    parse errors (a body that does not follow its boundary) through as a 500.
    """
    assert isinstance(exc, FormParserError)
    return _answer(request, 400, MSG_BAD_FORM)


async def database_unreachable(request: Request, exc: Exception) -> Response:
    """The database is away (foundation.outage) → 503 with Retry-After, a calm page or a
    problem; logged as one line with the error's type (its message may quote a row). Any
    other database error goes on to `server_error`."""
    if not is_unreachable(exc):
        raise exc
    log.warning("database unreachable (%s); answered 503", type(exc).__name__)
    retry = {"Retry-After": str(RETRY_AFTER)}  # RFC 9110 §10.2.3: seconds
    if request.url.path.startswith("/api/"):
        return problem(503, "unavailable", MSG_UNAVAILABLE, headers=retry, retry_after=RETRY_AFTER)
    return _page(request, 503, translations(language_of(request)).gettext(MSG_UNAVAILABLE), retry)


async def server_error(request: Request, exc: Exception) -> Response:
    """Any other exception → 500 page or problem. LastResort logs it."""
    return _answer(request, 500, MSG_SERVER_ERROR)


def _last_words(path: str) -> tuple[bytes, bytes]:
    """(content type, body) of the 500 that nothing above could render: a problem document
    under /api/, else plain text in both languages (the visitor's is not known here)."""
    if path.startswith("/api/"):
        response = problem(500, "server_error", MSG_SERVER_ERROR)
        return PROBLEM_JSON.encode(), bytes(response.body)
    english = translations("en").gettext(MSG_SERVER_ERROR)
    return b"text/plain; charset=utf-8", f"{MSG_SERVER_ERROR}\n{english}\n".encode()


class LastResort:
    """ASGI middleware, outermost: logs every exception that escapes the app, once.

    Starlette's ServerErrorMiddleware answers with `server_error` and then re-raises for the
    server to log; this logs instead and ends the request there. If an exception escaped
    before any answer began (from a middleware, or from `server_error` itself), it answers a
    plain 500 with the policy's headers. An answer cut off half-way is re-raised: only the
    server can close that connection.
    """

    def __init__(self, app: ASGIApp, header_policy: HeaderPolicy) -> None:
        self.app = app
        self.header_policy = header_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            # The type and the traceback only: the path may hold a token, the body personal data.
            log.error(
                "unhandled %s answering a %s request",
                type(exc).__name__,
                scope["method"],
                exc_info=exc,
            )
            if started and not finished:
                raise
            if not started:
                content_type, body = _last_words(scope["path"])
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", content_type),
                            (b"content-length", str(len(body)).encode()),
                            # This answer bypasses SecurityHeaders: the same policy, here.
                            *self.header_policy.for_path(scope["path"]),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})


class ErrorsInsideStarlette(Starlette):
    """Starlette with its error middleware inside the site-wide middleware, not outside it.

    Starlette puts ServerErrorMiddleware outermost, so a 500 bypasses every user middleware
    and goes out without the security headers. Here the order is, outermost first:
    `around`, LastResort, the user middleware, ServerErrorMiddleware, ExceptionMiddleware,
    the router. `header_policy` gives LastResort's own plain 500 the headers SecurityHeaders
    would. What `around` sets up (the request id) is in place when LastResort logs, and it
    sees every answer, LastResort's included. Its router is foundation.route_index's, which
    tries only the routes a path could match.
    """

    def __init__(
        self,
        *args: Any,
        header_policy: HeaderPolicy,
        around: Sequence[Middleware] = (),
        **kwargs: Any,
    ) -> None:
        self.header_policy = header_policy
        self.around = list(around)
        super().__init__(*args, **kwargs)
        # The same routes and lifespan, each request trying only its path's candidates.
        self.router = IndexedRouter(self.router.routes, lifespan=self.router.lifespan_context)

    def build_middleware_stack(self) -> ASGIApp:
        error_handler = None
        handlers: dict[Any, Any] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=handlers, debug=self.debug)
        app = ServerErrorMiddleware(app, handler=error_handler, debug=self.debug)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        app = LastResort(app, self.header_policy)
        for cls, args, kwargs in reversed(self.around):
            app = cls(app, *args, **kwargs)
        return app
