"""The organiser workspace: signing in and out, the overview, accounts (admins)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from foundation import csrf, flash, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.ratelimit import client_host
from foundation.rendering import page_link, render, said
from foundation.services import services
from foundation.timestamps import utcnow
from organisers import access, accounts, signing_in, workspace
from organisers.access import current, requires
from organisers.errors import SignInRefused
from organisers.models import Role


async def login_page(request: Request) -> Response:
    if await access.signed_in(request) is not None:
        return RedirectResponse(access.safe_next(request, request.query_params.get("next")), 303)
    return _login(request, email="", refused=None)


def _login(request: Request, *, email: str, refused: str | None, status: int = 200) -> Response:
    return render(
        request,
        "organiser/login.html",
        {
            "email": email,
            "refused": refused,
            "next": access.safe_next(request, request.query_params.get("next")),
        },
        status_code=status,
    )


async def login(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    email = str(form.get("email", ""))[:320]
    password = str(form.get("password", ""))[:2000]
    try:
        token = await signing_in.sign_in(app, client_host(request), email, password, utcnow())
    except SignInRefused as exc:
        return _login(request, email=email, refused=said(request, exc), status=401)
    response = RedirectResponse(
        access.safe_next(request, str(form.get("next", ""))), status_code=303
    )
    access.set_session_cookie(response, token, app.settings)
    csrf.rotate(request, response, secure=app.settings.base_url.startswith("https"))
    return response


async def logout(request: Request) -> Response:
    app = services(request)
    response = RedirectResponse(page_link(request, "organiser_login"), status_code=303)
    # Only the signed-in browser's own form signs out. Another site's form (Sec-Fetch-Site,
    # sent by every current browser) or one without a session (another site's, which the
    # SameSite=Lax cookie stays away from, or one that idled out) changes nothing at all,
    # not even a cookie: nothing else is checked for it.
    if request.headers.get("sec-fetch-site") == "cross-site":
        return response
    if await access.signed_in(request) is None:
        return response
    await csrf.checked_form(request, app.settings.secret_key)
    await signing_in.sign_out(app, access.session_token(request), utcnow())
    access.clear_session_cookie(response, app.settings)
    csrf.rotate(request, response, secure=app.settings.base_url.startswith("https"))
    return response


@requires()
async def home(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        seen = await workspace.overview(session, utcnow())
    note = flash.read(request, app.settings.secret_key)  # "password_set", from a mailed link
    response = render(
        request,
        "organiser/home.html",
        {"organiser": current(request), "overview": seen, "note": note},
    )
    return flash.forget(request, response)


@requires(Role.ADMIN)
async def accounts_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        everyone = await accounts.list_organisers(session)
    return render(
        request,
        "organiser/accounts.html",
        {"organiser": current(request), "accounts": everyone},
    )


routes = [
    Route("/organiser/login", login_page, name="organiser_login"),
    Route("/organiser/login", login, methods=["POST"], name="organiser_sign_in"),
    Route("/organiser/logout", logout, methods=["POST"], name="organiser_logout"),
    Route("/organiser/", home, name="organiser_home"),
    Route("/organiser/accounts", accounts_page, name="organiser_accounts"),
]
