"""CSRF protection for forms: a signed double-submit token, bound to a session when there is one.

Attendees have no account and so no session; a random value in a cookie, echoed in a
hidden field and signed with the secret key, is what keeps another site from posting a
booking or a cancellation in someone's name.

A signed-in organiser's requests are bound (`bind`, called by the organiser session code,
which foundation does not import): their tokens are signed with the session's identity as
well, so a pair made anywhere else (an anonymous page, another person's or an earlier
session of the same browser, a value planted in the cookie) is refused on their POSTs, as
Django does by rotating its secret at login. The identity only salts the signature, so a
token never shows it. Sign-in and sign-out also give the browser a new cookie (`rotate`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from foundation.errors import N_, DomainError

COOKIE = "lk_csrf"
# Behind https the cookie is `__Host-` prefixed (RFC 6265bis §4.1.3.2): Secure, path /, no
# Domain, so a sibling subdomain cannot plant a value of its own and forge a pair.
SECURE_COOKIE = "__Host-lk_csrf"
FIELD = "csrf_token"


def cookie_name(request: Request) -> str:
    """The CSRF cookie's name for this request (its scheme follows BASE_URL)."""
    return SECURE_COOKIE if request.url.scheme == "https" else COOKIE


def bind(request: Request, identity: str) -> None:
    """Bind this request's form tokens, made and checked, to `identity` (a signed-in
    session's secret token): only a token made within the same session passes."""
    request.state.csrf_binding = hashlib.sha256(identity.encode()).hexdigest()


def _serializer(request: Request, secret_key: str) -> URLSafeSerializer:
    binding: str | None = getattr(request.state, "csrf_binding", None)
    return URLSafeSerializer(secret_key, salt="csrf" if binding is None else f"csrf:{binding}")


def _raw(request: Request) -> str:
    """The cookie value this request's forms echo: one set during this request first."""
    fresh: str | None = getattr(request.state, "new_csrf_cookie", None)
    if fresh:
        return fresh
    raw = request.cookies.get(cookie_name(request))
    if not raw or len(raw) > 100:
        raw = request.state.new_csrf_cookie = secrets.token_urlsafe(24)
    return raw


def token_for(request: Request, secret_key: str) -> str:
    """The token to put in forms; remembers a new cookie value on the request if needed."""
    return _serializer(request, secret_key).dumps(_raw(request))


def set_cookie(request: Request, response: Response, *, secure: bool) -> None:
    raw: str | None = getattr(request.state, "new_csrf_cookie", None)
    if raw:
        response.set_cookie(
            cookie_name(request), raw, path="/", httponly=True, samesite="lax", secure=secure
        )


def rotate(request: Request, response: Response, *, secure: bool) -> None:
    """Give the browser a new cookie value with `response` (at sign-in and sign-out), so no
    form loaded before passes after, whoever loaded it."""
    request.state.new_csrf_cookie = secrets.token_urlsafe(24)
    set_cookie(request, response, secure=secure)


class FormExpired(DomainError):
    """The form's CSRF token does not match its cookie: expired, or sent from elsewhere."""

    code = "form_expired"
    status = 403

    def __init__(self) -> None:
        super().__init__(N_("Formuläret har gått ut. Ladda om sidan och försök igen."))


async def checked_form(request: Request, secret_key: str, *, max_fields: int = 50) -> FormData:
    """The posted form, or 403 (FormExpired) when its token does not match the cookie, or
    was made outside the session the request is bound to (`bind`). More than `max_fields`
    fields is a 400 (a form that grows with its content, a series' dates, asks for more)."""
    form = await request.form(max_files=0, max_fields=max_fields)
    cookie = request.cookies.get(cookie_name(request), "")
    sent = form.get(FIELD)
    try:
        echoed = _serializer(request, secret_key).loads(sent) if isinstance(sent, str) else None
    except BadSignature:
        echoed = None
    if not cookie or not isinstance(echoed, str) or not hmac.compare_digest(echoed, cookie):
        raise FormExpired()
    return form
