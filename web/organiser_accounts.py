"""Organiser accounts by mail and in the workspace: "forgot password", setting a password from
a mailed link, and the admins' pages to add, invite, disable and sign out an account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.ratelimit import client_host
from foundation.rendering import page_link, render, said
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from organisers import access, account_admin, password_links
from organisers.access import current, requires
from organisers.errors import InvalidAccount
from organisers.models import Role
from organisers.password_links import InvitationNotNeeded

# What an account page says after an action redirected to it (a note, foundation/flash.py).
DONE_NOTICES = {"invited", "signed_out"}


# --- forgot password, and setting one from a mailed link --------------------------------------


async def forgot_page(request: Request) -> Response:
    return render(request, "organiser/password/forgot.html", {"sent": False})


async def forgot(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    await password_links.request_reset(
        app, client_host(request), form_text.field(form, "email", 320), utcnow()
    )
    return render(request, "organiser/password/forgot.html", {"sent": True})


async def set_password_page(request: Request) -> Response:
    token = request.path_params["token"]
    async with services(request).transaction() as session:
        link = await password_links.open_link(session, token, utcnow())
    return _set_password(request, token, link.purpose.value, errors={})


def _set_password(
    request: Request, token: str, purpose: str, *, errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "organiser/password/set.html",
        {"token": token, "purpose": purpose, "errors": errors},
        status_code=status,
    )


async def set_password(request: Request) -> Response:
    app = services(request)
    token = request.path_params["token"]
    form = await csrf.checked_form(request, app.settings.secret_key)
    try:
        session_token = await password_links.set_password(
            app,
            token,
            form_text.field(form, "password", 2000),
            utcnow(),
            repeated=form_text.field(form, "password_again", 2000),
        )
    except InvalidAccount as exc:
        return _set_password(
            request, token, form_text.field(form, "purpose", 20), errors=exc.fields, status=422
        )
    response = flash.redirect(request, page_link(request, "organiser_home"), "password_set")
    access.set_session_cookie(response, session_token, app.settings)
    csrf.rotate(request, response, secure=app.settings.base_url.startswith("https"))
    return response


# --- the admins' account pages --------------------------------------------------------------


@requires(Role.ADMIN)
async def new_account_page(request: Request) -> Response:
    return _new_account(request, values={"role": Role.ORGANISER.value}, errors={})


def _new_account(
    request: Request, *, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "organiser/accounts/new.html",
        {
            "organiser": current(request),
            "values": values,
            "errors": errors,
            "roles": [r.value for r in Role],
        },
        status_code=status,
    )


@requires(Role.ADMIN)
async def add_account(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = {
        "name": form_text.field(form, "name", 400),
        "email": form_text.field(form, "email", 320),
        "role": form_text.field(form, "role", 20),
    }
    try:
        async with app.transaction() as session:
            added = await password_links.add_with_invitation(
                session,
                **values,
                secret_key=app.settings.secret_key,
                now=utcnow(),
                by=current(request),
            )
    except InvalidAccount as exc:
        return _new_account(request, values=values, errors=exc.fields, status=422)
    return _done(request, added.id, "invited")


@requires(Role.ADMIN)
async def account_page(request: Request) -> Response:
    done = flash.read(request, services(request).settings.secret_key)
    response = await _account(request, done=done if done in DONE_NOTICES else None)
    return flash.forget(request, response)


async def _account(
    request: Request, *, done: str | None = None, refused: str | None = None, status: int = 200
) -> Response:
    async with services(request).transaction() as session:
        view = await account_admin.account_view(
            session, request.path_params["account_id"], utcnow()
        )
    return render(
        request,
        "organiser/accounts/show.html",
        {"organiser": current(request), "view": view, "done": done, "refused": refused},
        status_code=status,
    )


def _done(request: Request, account_id: int, done: str) -> Response:
    return flash.redirect(
        request, page_link(request, "organiser_account", account_id=account_id), done
    )


@requires(Role.ADMIN)
async def disable_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        view = await account_admin.account_view(
            session, request.path_params["account_id"], utcnow()
        )
    return render(
        request,
        "organiser/accounts/disable.html",
        {"organiser": current(request), "view": view},
    )


@requires(Role.ADMIN)
async def disable(request: Request) -> Response:
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    account_id = request.path_params["account_id"]
    try:
        async with app.transaction() as session:
            await account_admin.disable_account(
                session, account_id, by=current(request), now=utcnow()
            )
    except account_admin.OwnAccount as exc:
        return await _account(request, refused=said(request, exc), status=exc.status)
    return RedirectResponse(
        page_link(request, "organiser_account", account_id=account_id), status_code=303
    )


@requires(Role.ADMIN)
async def sign_out_everywhere(request: Request) -> Response:
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    account_id = request.path_params["account_id"]
    async with app.transaction() as session:
        await account_admin.sign_out_everywhere(
            session, account_id, by=current(request), now=utcnow()
        )
    return _done(request, account_id, "signed_out")


@requires(Role.ADMIN)
async def invite_again(request: Request) -> Response:
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    account_id = request.path_params["account_id"]
    try:
        async with app.transaction() as session:
            await password_links.invite_again(
                session,
                account_id,
                secret_key=app.settings.secret_key,
                by=current(request),
                now=utcnow(),
            )
    except InvitationNotNeeded as exc:
        return await _account(request, refused=said(request, exc), status=exc.status)
    return _done(request, account_id, "invited")


ACCOUNT = "/organiser/accounts/{account_id:id}"
routes = [
    Route(ROUTES["organiser_forgot"], forgot_page, name="organiser_forgot"),
    Route(ROUTES["organiser_forgot"], forgot, methods=["POST"], name="organiser_forgot_send"),
    Route(ROUTES["organiser_set_password"], set_password_page, name="organiser_set_password"),
    Route(
        ROUTES["organiser_set_password"],
        set_password,
        methods=["POST"],
        name="organiser_password_save",
    ),
    Route("/organiser/accounts/new", new_account_page, name="organiser_account_new"),
    Route("/organiser/accounts/new", add_account, methods=["POST"], name="organiser_account_add"),
    Route(ACCOUNT, account_page, name="organiser_account"),
    Route(f"{ACCOUNT}/disable", disable_page, name="organiser_account_disable_confirm"),
    Route(f"{ACCOUNT}/disable", disable, methods=["POST"], name="organiser_account_disable"),
    Route(
        f"{ACCOUNT}/sign-out",
        sign_out_everywhere,
        methods=["POST"],
        name="organiser_account_sign_out",
    ),
    Route(f"{ACCOUNT}/invite", invite_again, methods=["POST"], name="organiser_account_invite"),
]
