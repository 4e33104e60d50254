"""'Dela med dig': the public form and API through which anyone proposes an example for the
guide. What is sent waits, unseen, for an organiser (guide/proposals.py); the form says at
the point of collection who is responsible for the personal data, what is kept, for how
long, and the proposer's rights (GDPR art. 13).

The form has a CSRF token, a honeypot rather than a CAPTCHA (foundation/honeypot.py) and
the proposal limits (foundation.ratelimit.AttemptLimiter.for_proposals); the API has the
same limits, no CORS headers (foundation.cors) and takes only application/json.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import NoMatchFound, Route

from foundation import csrf, flash, form_text, honeypot
from foundation.body_limit import API_LIMIT
from foundation.errors import N_
from foundation.i18n import accepted_language
from foundation.json_body import json_object
from foundation.openapi import Operation, Reply, v1_only
from foundation.ratelimit import TooManyBookings, client_host
from foundation.rendering import language_of, page_link, render, said
from foundation.services import services
from foundation.site_paths import ROUTES
from foundation.timestamps import utcnow
from foundation.typed_body import typed_body
from guide import proposals
from guide.errors import InvalidProposal

FIELDS = (
    "title",
    "organisation",
    "summary",
    "body",
    "contact_name",
    "contact_role",
    "contact_email",
    "contact_phone",
)
SENT_NOTE = "sent"


def _privacy_url(request: Request) -> str | None:
    """The site's privacy page, when the app has one (issue 13's `privacy` route)."""
    try:
        return page_link(request, "privacy")
    except NoMatchFound:
        return None


def _form(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refused: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "guide/share.html",
        {
            "values": values or {},
            "errors": errors or {},
            "refused": refused,
            "privacy_url": _privacy_url(request),
            "limits": {
                "title": proposals.MAX_TITLE,
                "organisation": proposals.MAX_LINE,
                "summary": proposals.MAX_SUMMARY,
                "body": proposals.MAX_BODY,
                "contact_name": proposals.MAX_LINE,
                "contact_role": proposals.MAX_LINE,
                "contact_email": proposals.MAX_EMAIL,
                "contact_phone": proposals.MAX_PHONE,
            },
        },
        status_code=status,
    )


async def share_page(request: Request) -> Response:
    return _form(request)


async def share(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = form_text.fields(form, FIELDS, proposals.MAX_BODY + 100)
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    try:
        honeypot.check(form)
        draft = proposals.validate_proposal(
            **{name: values[name] for name in FIELDS},
            consent=values["consent"] == "yes",
            # Written on the English page, told in English (guide/proposal_models.py).
            language=language_of(request),
            smtputf8=app.settings.smtp_utf8,
        )
        await proposals.submit_within_limits(app, client_host(request), draft, utcnow())
    except honeypot.Filled as exc:
        return _form(request, values=values, refused=said(request, exc), status=422)
    except InvalidProposal as exc:
        return _form(request, values=values, errors=dict(exc.fields), status=422)
    except TooManyBookings as exc:
        response = _form(request, values=values, refused=said(request, exc), status=429)
        response.headers["Retry-After"] = str(exc.retry_after)  # RFC 9110 §10.2.3
        return response
    return flash.redirect(request, page_link(request, "guide_share_sent"), SENT_NOTE)


async def share_sent(request: Request) -> Response:
    """The receipt after post/redirect/get; without the note (a bookmark), the form."""
    app = services(request)
    if flash.read(request, app.settings.secret_key) != SENT_NOTE:
        return RedirectResponse(page_link(request, "guide_share"), status_code=303)
    return flash.forget(request, render(request, "guide/shared.html", {}))


class ProposalRequest(BaseModel):
    """A proposed example and how to reach its contact person. Nothing of it is public until
    an organiser approves it; the proposer is mailed the decision either way."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Strukturbild för landsbygdsutveckling",
                    "organisation": "Exempelkommun",
                    "summary": "Vi ritade en strukturbild tillsammans med byarna.",
                    "body": "Först …",
                    "contact_name": "Ada Lind",
                    "contact_role": "Landsbygdsutvecklare",
                    "contact_email": "ada.lind@kommun.example.se",
                    "contact_phone": "08-123 45 67",
                    "consent": True,
                    "language": "sv",
                }
            ]
        }
    )

    title: str = Field(json_schema_extra={"maxLength": proposals.MAX_TITLE, "minLength": 1})
    organisation: str = Field(json_schema_extra={"maxLength": proposals.MAX_LINE, "minLength": 1})
    summary: str = Field(
        json_schema_extra={"maxLength": proposals.MAX_SUMMARY, "minLength": 1},
        description="The example in a few sentences ('på 30 sekunder'); line breaks kept",
    )
    body: str | None = Field(
        default=None,
        json_schema_extra={"maxLength": proposals.MAX_BODY},
        description="What was done, the results and lessons; line breaks kept",
    )
    contact_name: str = Field(
        json_schema_extra={"maxLength": proposals.MAX_LINE, "minLength": 1},
        description="The person others may call; must hold a letter and no address",
    )
    contact_role: str | None = Field(
        default=None,
        json_schema_extra={"maxLength": proposals.MAX_LINE},
        description="The contact's role or title; shown with the example once it is approved",
    )
    contact_email: str = Field(
        json_schema_extra={"format": "email", "maxLength": proposals.MAX_EMAIL},
        description="Where the decision goes; shown with the example once it is approved",
    )
    contact_phone: str | None = Field(
        default=None,
        json_schema_extra={"maxLength": proposals.MAX_PHONE},
        description="A phone number as people write it ('08-123 45 67'); shown with the "
        "example once it is approved",
    )
    consent: bool = Field(
        json_schema_extra={
            "const": True,
            "description": "Must be true: the proposer accepts the privacy notice at /guide/share",
        }
    )
    language: Literal["sv", "en"] | None = Field(
        default=None,
        description="The language of the mail with the decision: `sv` or `en`. Without it, "
        "the first of these the `Accept-Language` header accepts (RFC 9110 §12.5.4), else "
        "the site's default language",
    )


class ProposalReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detail: str = Field(description="A sentence in Swedish for people: received, and what next")


MSG_RECEIVED = N_(
    "Tack! Förslaget är mottaget. Redaktionen läser det och hör av sig till kontaktpersonens "
    "e-postadress när det är godkänt eller avböjt."
)


async def create_proposal(request: Request) -> Response:
    app = services(request)
    body = await json_object(request, declared=ProposalRequest.model_fields)
    typed = typed_body(ProposalRequest, body)
    header = accepted_language(request.headers.get("accept-language", ""))
    try:
        draft = proposals.validate_proposal(
            **{name: typed.text(name) for name in FIELDS},
            consent=typed.flag("consent"),
            language=(
                typed.text("language")
                if "language" in typed.values
                else header or app.settings.default_language
            ),
            smtputf8=app.settings.smtp_utf8,
        )
    except InvalidProposal as exc:
        # A wrong type says more than "empty": the model's message wins for its field.
        raise InvalidProposal({**exc.fields, **typed.errors}) from None
    if typed.errors:
        raise InvalidProposal(typed.errors)
    # Over a limit: TooManyBookings, answered 429 with Retry-After by the app's handler.
    await proposals.submit_within_limits(app, client_host(request), draft, utcnow())
    answer = ProposalReceipt(detail=MSG_RECEIVED)
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


RETRY_AFTER = {
    "description": "Seconds to wait (RFC 9110 §10.2.3)",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
CREATE_PROPOSAL = Operation(
    summary="Propose an example for the development guide (Dela med dig)",
    description="The proposal waits for an organiser, unseen by anyone else; approved "
    "(edited into an example) or rejected with a note, the contact person is mailed the "
    "decision in `language`. At most 5 proposals an hour (20 a day) from one client and 3 "
    "an hour (10 a day) for one contact inbox.",
    body=ProposalRequest,
    replies={
        202: Reply("Received; nothing is public yet", ProposalReceipt),
        400: Reply("Not an I-JSON object (RFC 7493)"),
        413: Reply(f"The body is over {API_LIMIT:,} bytes"),
        415: Reply("Not application/json"),
        422: Reply(
            "Invalid fields (consent not given among them); `fields` maps each to a message"
        ),
        429: Reply(
            "Too many proposals from this client or for this address; try again after "
            "Retry-After seconds",
            headers={"Retry-After": RETRY_AFTER},
        ),
    },
)

routes = [
    # Before guide_pages' /guide/{slug}, which "share" would match as a slug.
    Route(ROUTES["guide_share"], share_page, name="guide_share"),
    Route(ROUTES["guide_share"], share, methods=["POST"], name="guide_share_post"),
    Route("/guide/share/sent", share_sent, name="guide_share_sent"),
    *v1_only("/guide/proposals", create_proposal, method="POST", operation=CREATE_PROPOSAL),
]
