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
FIELD = "csrf_token"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="csrf")


def token_for(request: Request, secret_key: str) -> str:
    """The token to put in forms; remembers a new cookie value on the request if needed."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 100:
        raw = request.state.__dict__.setdefault("new_csrf_cookie", secrets.token_urlsafe(24))
    return _serializer(secret_key).dumps(raw)


def set_cookie(request: Request, response: Response, *, secure: bool) -> None:
    raw = request.state.__dict__.get("new_csrf_cookie")
    if raw:
        response.set_cookie(COOKIE, raw, httponly=True, samesite="lax", secure=secure)


class FormExpired(DomainError):
    """The form's CSRF token does not match its cookie: expired, or sent from elsewhere."""

    code = "form_expired"
    status = 403

    def __init__(self) -> None:
        super().__init__(N_("Formuläret har gått ut. Ladda om sidan och försök igen."))


async def checked_form(request: Request, secret_key: str) -> FormData:
    """The posted form, or 403 when its token does not match the cookie."""
    form = await request.form(max_files=0, max_fields=50)
    cookie = request.cookies.get(COOKIE, "")
    sent = form.get(FIELD)
    try:
        echoed = _serializer(secret_key).loads(sent) if isinstance(sent, str) else None
    except BadSignature:
        echoed = None
    if not cookie or not isinstance(echoed, str) or not hmac.compare_digest(echoed, cookie):
        raise FormExpired()
    return form
