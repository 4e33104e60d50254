"""CSRF protection for forms: a signed double-submit token.

Attendees have no account and so no session; a random value in a cookie, echoed in a
hidden field and signed with the secret key, is what keeps another site from posting a
booking or a cancellation in someone's name.
"""

from __future__ import annotations

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


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="csrf")


def token_for(request: Request, secret_key: str) -> str:
    """The token to put in forms; remembers a new cookie value on the request if needed."""
    raw = request.cookies.get(cookie_name(request))
    if not raw or len(raw) > 100:
        raw = request.state.__dict__.setdefault("new_csrf_cookie", secrets.token_urlsafe(24))
    return _serializer(secret_key).dumps(raw)


def set_cookie(request: Request, response: Response, *, secure: bool) -> None:
    raw = request.state.__dict__.get("new_csrf_cookie")
    if raw:
        response.set_cookie(
            cookie_name(request), raw, path="/", httponly=True, samesite="lax", secure=secure
        )


class FormExpired(DomainError):
    """The form's CSRF token does not match its cookie: expired, or sent from elsewhere."""

    code = "form_expired"
    status = 403

    def __init__(self) -> None:
        super().__init__(N_("Formuläret har gått ut. Ladda om sidan och försök igen."))


async def checked_form(request: Request, secret_key: str, *, max_fields: int = 50) -> FormData:
    """The posted form, or 403 when its token does not match the cookie. More than
    `max_fields` fields is a 400 (a form that grows with its content, a series' dates,
    asks for more)."""
    form = await request.form(max_files=0, max_fields=max_fields)
    cookie = request.cookies.get(cookie_name(request), "")
    sent = form.get(FIELD)
    try:
        echoed = _serializer(secret_key).loads(sent) if isinstance(sent, str) else None
    except BadSignature:
        echoed = None
    if not cookie or not isinstance(echoed, str) or not hmac.compare_digest(echoed, cookie):
        raise FormExpired()
    return form
