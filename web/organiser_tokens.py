"""Each organiser's own personal access tokens for the organiser API: make, see, revoke.

A new token is shown once, in the answer to the form that made it (never in a URL, a
cookie or a later page); afterwards only its name, when it was made and when it last
changed something.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.rendering import page_link, render
from foundation.services import services
from foundation.timestamps import utcnow
from organisers import tokens
from organisers.access import current, requires
from organisers.errors import InvalidToken


async def _page(
    request: Request,
    *,
    created: tokens.NewToken | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with services(request).transaction() as session:
        held = await tokens.tokens_of(session, current(request))
    response = render(
        request,
        "organiser/tokens/list.html",
        {
            "organiser": current(request),
            "tokens": held,
            "created": created,
            "revoked": flash.read(request, services(request).settings.secret_key) == "revoked",
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status,
    )
    return flash.forget(request, response)


@requires()
async def tokens_page(request: Request) -> Response:
    return await _page(request)


@requires()
async def create_token(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    name = form_text.field(form, "name", 1000)
    try:
        async with app.transaction() as session:
            made = await tokens.create_token(session, current(request), name, utcnow())
    except InvalidToken as exc:
        return await _page(request, values={"name": name}, errors=exc.fields, status=422)
    # Shown in this answer only: a reload asks the browser to post again, which makes
    # another token rather than showing this one twice.
    return await _page(request, created=made)


@requires()
async def revoke_token(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    token_id: int = request.path_params["token_id"]
    if form.get("confirm") != "yes":
        async with app.transaction() as session:  # TokenNotFound: the 404 page
            token = await tokens.own_token(session, current(request), token_id)
        return render(
            request,
            "organiser/tokens/revoke.html",
            {"organiser": current(request), "token": token},
        )
    async with app.transaction() as session:
        await tokens.revoke_token(session, current(request), token_id, utcnow())
    return flash.redirect(request, page_link(request, "organiser_tokens"), "revoked")


routes = [
    Route("/organiser/tokens", tokens_page, name="organiser_tokens"),
    Route("/organiser/tokens", create_token, methods=["POST"], name="organiser_tokens_create"),
    Route(
        "/organiser/tokens/{token_id:id}/revoke",
        revoke_token,
        methods=["POST"],
        name="organiser_token_revoke",
    ),
]
