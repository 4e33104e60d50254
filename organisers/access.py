"""Who is signed in, for the organiser pages and API: the session cookie, roles, the gate.

The cookie holds the session token signed with a timestamp (itsdangerous), `HttpOnly`,
`SameSite=Lax`, and behind https `Secure` with the `__Host-` prefix (RFC 6265bis §4.1.3.2:
no Domain, path /, so no sibling host can set or read it). A signature older than
SESSION_IDLE ends the session; each organiser page signs it afresh, so it ends after that
long without a request, and reading a page writes nothing to the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Route

from foundation import csrf
from foundation.ratelimit import TooManyBookings, client_host
from foundation.services import services
from foundation.settings import Settings
from foundation.timestamps import utcnow
from organisers import sessions, tokens
from organisers.errors import (
    BearerForbidden,
    BearerMissing,
    BearerRefused,
    Forbidden,
    NotSignedIn,
    TooManySignIns,
)
from organisers.models import Organiser, Role

Handler = Callable[[Request], Awaitable[Response]]
SALT = "lunchkafe.organiser-session"
REFRESH_AFTER_SECONDS = 60  # a cookie signed longer ago than this is signed afresh


def cookie_name(settings: Settings) -> str:
    return "__Host-lk_organiser" if settings.base_url.startswith("https://") else "lk_organiser"


def _signer(settings: Settings) -> TimestampSigner:
    return TimestampSigner(settings.secret_key, salt=SALT)


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        cookie_name(settings),
        _signer(settings).sign(token).decode(),
        max_age=int(settings.session_max_age.total_seconds()),
        path="/",
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings),
        path="/",
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def session_token(request: Request) -> str | None:
    """The session token of a cookie signed within SESSION_IDLE, or None."""
    settings = services(request).settings
    raw = request.cookies.get(cookie_name(settings))
    if not raw:
        return None
    try:
        return (
            _signer(settings)
            .unsign(raw, max_age=int(settings.session_idle.total_seconds()))
            .decode()
        )
    except (BadSignature, SignatureExpired, UnicodeDecodeError):
        return None


async def signed_in(request: Request) -> Organiser | None:
    """The organiser this request's session signs in, or None; looked up once per request.
    A signed-in request's forms are bound to its session (foundation.csrf.bind)."""
    if hasattr(request.state, "organiser"):
        found: Organiser | None = request.state.organiser
        return found
    token = session_token(request)
    organiser = None
    if token is not None:
        app = services(request)
        async with app.transaction() as session:
            organiser = await sessions.resolve(
                session, token, utcnow(), max_age=app.settings.session_max_age
            )
    if organiser is not None and token is not None:
        csrf.bind(request, token)
    request.state.organiser = organiser
    return organiser


HOME = "/organiser/"


def safe_next(request: Request, value: str | None) -> str:
    """Where to go after signing in, the one rule for choosing `next` and following it: a
    workspace page a browser can open (a gated GET route of this app), with its query;
    for any other path under /organiser/ (a form's POST-only action, say, after an idle
    timeout) the nearest page above it, without the query; never another site. Else the
    overview."""
    path, mark, query = (value or "").partition("?")
    if not path.startswith(HOME) or "//" in path or "\\" in path:
        return HOME
    if _is_page(request, path):
        return f"{path}{mark}{query}"
    while path.startswith(HOME):
        path = path.rstrip("/").rpartition("/")[0]
        if _is_page(request, path):
            return path
    return HOME


def _is_page(request: Request, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(
        isinstance(route, Route)
        and getattr(route.endpoint, "gated", False)
        and route.matches(scope)[0] is Match.FULL
        for route in request.app.router.routes
    )


def requires(role: Role | None = None) -> Callable[[Handler], Handler]:
    """Gate an organiser handler: anonymous requests go to the sign-in page (raise
    NotSignedIn, a 401, under /api/), a signed-in organiser without `role` gets Forbidden
    (403). The handler finds its organiser with `current(request)`."""

    def gate(handler: Handler) -> Handler:
        @wraps(handler)
        async def gated(request: Request) -> Response:
            organiser = await signed_in(request)
            if organiser is None:
                if request.url.path.startswith("/api/"):
                    raise NotSignedIn()
                target = quote(safe_next(request, request.url.path), safe="/")
                return RedirectResponse(f"/organiser/login?next={target}", status_code=303)
            if role is Role.ADMIN and not organiser.is_admin:
                raise Forbidden()
            response = await handler(request)
            _slide(request, response)
            return response

        # Read by the tests that walk every route as the wrong role (tests/organisers).
        gated.required_role = role  # type: ignore[attr-defined]
        gated.gated = True  # type: ignore[attr-defined]
        return gated

    return gate


READS = ("GET", "HEAD")


def bearer_of(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header (the scheme in any letter case,
    RFC 9110 §11.1), or None when the header is missing or names another scheme."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def requires_token(role: Role | None = None) -> Callable[[Handler], Handler]:
    """Gate an organiser API handler on a personal access token (`Authorization: Bearer`,
    RFC 6750 §2.1); a session cookie opens nothing here.

    No token: BearerMissing (401). An unknown or revoked token, or one whose account is
    disabled: BearerRefused (401, `error="invalid_token"`), counted against the client's
    sign-in limits, and once over them TooManySignIns (429) before any lookup. A token
    whose account lacks `role`: BearerForbidden (403, `error="insufficient_scope"`). The
    handler finds its organiser with `current(request)`; a request that writes marks the
    token used.
    """

    def gate(handler: Handler) -> Handler:
        @wraps(handler)
        async def gated(request: Request) -> Response:
            secret = bearer_of(request)
            if secret is None:
                raise BearerMissing()
            app = services(request)
            client = client_host(request)
            try:
                await app.sign_in_limiter.check_failures(client)
            except TooManyBookings as exc:
                raise TooManySignIns(exc.retry_after) from None
            async with app.transaction() as session:
                found = await tokens.resolve(
                    session, secret, utcnow(), writes=request.method not in READS
                )
            if found is None:
                await app.sign_in_limiter.failed(client)
                raise BearerRefused()
            organiser, _ = found
            if role is Role.ADMIN and not organiser.is_admin:
                raise BearerForbidden()
            request.state.organiser = organiser
            return await handler(request)

        return gated

    return gate


def current(request: Request) -> Organiser:
    """The signed-in organiser of a gated handler."""
    organiser: Organiser | None = getattr(request.state, "organiser", None)
    if organiser is None:
        raise NotSignedIn()
    return organiser


def _slide(request: Request, response: Response) -> None:
    """Sign the cookie afresh when it is more than a minute old: idle time restarts."""
    settings = services(request).settings
    raw = request.cookies.get(cookie_name(settings), "")
    try:
        age = _signer(settings).unsign(raw, return_timestamp=True)[1]
    except (BadSignature, UnicodeDecodeError):
        return
    token = session_token(request)
    if token and (utcnow() - age).total_seconds() > REFRESH_AFTER_SECONDS:
        set_session_cookie(response, token, settings)
