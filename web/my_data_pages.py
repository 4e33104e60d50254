"""A person's own data: asking for a link, and what the mailed link opens (GDPR art. 15, 17,
20). Knowing an address opens nothing here: the form answers the same for every address and
the data is reached only through the link mailed to it (registrations/personal_data.py)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from foundation import csrf, form_text, honeypot
from foundation.errors import DomainError
from foundation.ratelimit import client_host
from foundation.rendering import language_of, page_link, render, said
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from organisers.person_erasure import erase_by_link
from registrations.erasure import cancelled_by_erasure
from registrations.errors import MSG_EMAIL_REQUIRED
from registrations.models import RegistrationStatus
from registrations.personal_data import (
    KIND_LABELS,
    DataLinkExpired,
    DataLinkInvalid,
    TooManyDataLinks,
    as_json,
    data_behind_link,
    request_link,
)


def _ask(request: Request, **context: object) -> Response:
    status = int(str(context.pop("status", 200)))
    values = context.pop("values", {})
    errors = context.pop("errors", {})
    return render(
        request,
        "registrations/my_data/ask.html",
        {
            "sent": False,
            "values": values,
            "errors": errors,
            "refused": None,
            "gone": None,
            **context,
        },
        status_code=status,
    )


async def ask_page(request: Request) -> Response:
    """The form: an address, and a link goes to it if it has bookings."""
    return _ask(request)


async def send_link(request: Request) -> Response:
    """The same answer for every address, known or not; the link goes by mail only."""
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    email = form_text.field(form, "email", 320)
    try:
        honeypot.check(form)
    except honeypot.Filled as exc:
        return _ask(request, values={"email": email}, refused=said(request, exc), status=422)
    if not email.strip():
        return _ask(request, errors={"email": MSG_EMAIL_REQUIRED}, status=422)
    try:
        await request_link(
            app, client_host(request), email, language=language_of(request), now=utcnow()
        )
    except TooManyDataLinks as exc:  # said on the form, the address kept for later
        response = _ask(request, values={"email": email}, refused=said(request, exc), status=429)
        response.headers["Retry-After"] = str(exc.retry_after)  # RFC 9110 §10.2.3
        return response
    return _ask(request, sent=True)


def _link_gone(request: Request, exc: DomainError) -> Response:
    """A link that opens nothing (gone out, or its data erased already) says so plainly on
    the form that mails a new one, not as a missing page."""
    return _ask(request, gone=said(request, exc), status=exc.status)


async def view(request: Request) -> Response:
    """Every booking of the address and every mail sent to it; links to download and erase."""
    app = services(request)
    token = request.path_params["token"]
    try:
        async with app.transaction() as session:
            data = await data_behind_link(
                session, token, secret_key=app.settings.secret_key, now=utcnow()
            )
    except (DataLinkInvalid, DataLinkExpired) as exc:
        return _link_gone(request, exc)
    return render(
        request,
        "registrations/my_data/view.html",
        {"data": data, "token": token, "statuses": RegistrationStatus, "kinds": KIND_LABELS},
    )


async def download(request: Request) -> Response:
    """The same as a JSON file (GDPR art. 20), never kept by a cache (the token prefix)."""
    app = services(request)
    token = request.path_params["token"]
    now = utcnow()
    try:
        async with app.transaction() as session:
            data = await data_behind_link(
                session, token, secret_key=app.settings.secret_key, now=now
            )
    except (DataLinkInvalid, DataLinkExpired) as exc:
        return _link_gone(request, exc)
    body = json.dumps(
        as_json(data, now=now, site_name=app.settings.site_name), ensure_ascii=False, indent=2
    )
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="my-data-{now:%Y-%m-%d}.json"',
        },
    )


async def erase_page(request: Request) -> Response:
    """ "Radera allt?": erasing takes a second, deliberate step; the page changes nothing."""
    app = services(request)
    token = request.path_params["token"]
    now = utcnow()
    try:
        async with app.transaction() as session:
            data = await data_behind_link(
                session, token, secret_key=app.settings.secret_key, now=now
            )
    except (DataLinkInvalid, DataLinkExpired) as exc:
        return _link_gone(request, exc)
    upcoming = [r for r in data.registrations if cancelled_by_erasure(r, r.event, now)]
    return render(
        request,
        "registrations/my_data/erase.html",
        {"data": data, "token": token, "upcoming": upcoming},
    )


async def erase(request: Request) -> Response:
    app = services(request)
    token = request.path_params["token"]
    await csrf.checked_form(request, app.settings.secret_key)
    try:
        async with app.transaction() as session:
            await erase_by_link(session, token, secret_key=app.settings.secret_key, now=utcnow())
    except (DataLinkInvalid, DataLinkExpired) as exc:
        return _link_gone(request, exc)
    return RedirectResponse(page_link(request, "my_data_erased"), status_code=303)


async def erased(request: Request) -> Response:
    return render(request, "registrations/my_data/erased.html", {})


routes = [
    Route(ROUTES["my_data"], ask_page, name="my_data"),
    Route(ROUTES["my_data"], send_link, methods=["POST"], name="my_data_send"),
    # Before the token's route, which the word would match too.
    Route("/my-data/erased", erased, name="my_data_erased"),
    Route(ROUTES["my_data_view"], view, name="my_data_view"),
    Route("/my-data/{token}/data.json", download, name="my_data_download"),
    Route("/my-data/{token}/erase", erase_page, name="my_data_erase_confirm"),
    Route("/my-data/{token}/erase", erase, methods=["POST"], name="my_data_erase"),
]
