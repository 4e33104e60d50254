"""Erasing a person on their request, from the workspace (admins; GDPR art. 17): an address,
then a page saying what will happen, then the erasure, as the person's own link does it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation import csrf, form_text
from foundation.rendering import render
from foundation.services import services
from foundation.timestamps import utcnow
from organisers import person_erasure
from organisers.access import current, requires
from organisers.models import Role
from organisers.person_erasure import NoAddress


def _page(request: Request, status: int = 200, **context: object) -> Response:
    return render(
        request,
        "organiser/erasure.html",
        {
            "organiser": current(request),
            "values": {},
            "errors": {},
            "preview": None,
            "erased": None,
            **context,
        },
        status_code=status,
    )


@requires(Role.ADMIN)
async def erasure_page(request: Request) -> Response:
    return _page(request)


@requires(Role.ADMIN)
async def erase(request: Request) -> Response:
    """Without `confirm`: what erasing the address would do (writes nothing). With it: the
    erasure, logged with counts only."""
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    email = form_text.field(form, "email", 320)
    try:
        async with app.transaction() as session:
            if form.get("confirm") != "yes":
                found = await person_erasure.preview(session, email, now=utcnow())
                return _page(request, preview=found, values={"email": email})
            erased = await person_erasure.erase_on_request(
                session, current(request), email, now=utcnow()
            )
    except NoAddress as exc:
        return _page(request, 422, errors=exc.fields, values={"email": email})
    return _page(request, erased=erased)


routes = [
    Route("/organiser/erase", erasure_page, name="organiser_erasure"),
    Route("/organiser/erase", erase, methods=["POST"], name="organiser_erase"),
]
