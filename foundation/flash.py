"""A note from a form's answer to the page it redirects to (post/redirect/get).

After a booking the browser is sent on to an ordinary page, which a reload, a bookmark or a
mobile browser restoring a tab can open again without posting the form twice. What that page
should show of the post (the address the mail went to, so a typo is seen) goes in a signed
cookie sent only to that page's path and kept for a few minutes: never in the URL, where
addresses end up in logs and histories.

The organiser workspace says what each of its forms did this way too (`redirect`): the page
shows the note once and drops it (`forget`), so a reload shows the page as it is.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from foundation.services import services

COOKIE = "lk_note"
MAX_AGE = 15 * 60  # seconds: long enough to look in the mail and come back


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="flash")


def leave(response: Response, note: str, *, path: str, secret_key: str, secure: bool) -> None:
    """Have the browser carry `note` to `path` (a page path, no query) for MAX_AGE seconds."""
    value = _serializer(secret_key).dumps(note)
    response.set_cookie(
        COOKIE, value, max_age=MAX_AGE, path=path, httponly=True, samesite="lax", secure=secure
    )


def redirect(request: Request, path: str, note: str, *, fragment: str = "") -> RedirectResponse:
    """303 to `path` (a page path, no query) and `fragment` ("#examples-title"), leaving
    `note` for that page: post/redirect/get, saying what the form did."""
    settings = services(request).settings
    response = RedirectResponse(path + fragment, status_code=303)
    leave(
        response,
        note,
        path=path,
        secret_key=settings.secret_key,
        secure=settings.base_url.startswith("https"),
    )
    return response


def forget(request: Request, response: Response) -> Response:
    """`response` dropping the note left for this page: shown once, a reload shows the
    page without it."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=request.url.path, httponly=True, samesite="lax")
    return response


def read(request: Request, secret_key: str) -> str | None:
    """The note left for this page, or None when there is none, it expired or was forged."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 2000:
        return None
    try:
        note = _serializer(secret_key).loads(raw, max_age=MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return note if isinstance(note, str) else None
