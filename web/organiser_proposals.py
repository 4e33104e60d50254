"""Proposals to the guide in the workspace: the list, one proposal edited into an example and
approved, or rejected with a note; and the same two decisions in the organiser API.

Any organiser decides (organisers.access.requires()); each decision is logged
(organisers.guide_moderation) and mailed to the proposer (guide.proposals). The API routes
take a personal access token and live only under /api/v1/, as the rest of the organiser API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.body_limit import ORGANISER_API_LIMIT
from foundation.json_body import json_object
from foundation.openapi import Operation, Reply, v1_only
from foundation.rendering import page_link, render
from foundation.services import services
from foundation.site_paths import url
from foundation.timestamps import utcnow
from foundation.typed_body import validated
from guide import catalogue, proposals
from guide.errors import InvalidProposal
from guide.models import OrganisationType
from organisers.access import current, requires, requires_token
from organisers.guide_moderation import approve_proposal, reject_proposal

EDITED = (
    "slug",
    "title",
    "organisation",
    "organisation_type",
    "region",
    "summary",
    "body",
    "contact_name",
    "contact_email",
    # Published with the example, so the organiser sees and may correct them before approving.
    "contact_role",
    "contact_phone",
)
LIMITS = {
    "region": 100,
    "slug": 80,
    "title": proposals.MAX_TITLE,
    "organisation": proposals.MAX_LINE,
    "summary": proposals.MAX_SUMMARY,
    "body": proposals.MAX_BODY,
    "contact_name": proposals.MAX_LINE,
    "contact_email": proposals.MAX_EMAIL,
    "contact_role": proposals.MAX_LINE,
    "contact_phone": proposals.MAX_PHONE,
    "note": proposals.MAX_NOTE,
}


@requires()
async def proposals_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        found = await proposals.proposals(session)
    done = flash.read(request, services(request).settings.secret_key)
    response = render(
        request,
        "organiser/proposals/list.html",
        {"organiser": current(request), "proposals": found, "done": done},
    )
    return flash.forget(request, response)


async def _proposal_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    chosen: list[str] | None = None,
    status: int = 200,
) -> Response:
    async with services(request).transaction() as session:
        proposal = await proposals.get_proposal(session, request.path_params["proposal_id"])
        challenges = await catalogue.challenges(session)
    if values is None:
        values = {name: str(getattr(proposal, name, "")) for name in EDITED}
        values["slug"] = proposals.suggested_slug(proposal)
    return render(
        request,
        "organiser/proposals/proposal.html",
        {
            "organiser": current(request),
            "proposal": proposal,
            "values": values,
            "errors": errors or {},
            "challenges": challenges,
            "chosen": chosen or [],
            "organisation_types": list(OrganisationType),
            "limits": LIMITS,
        },
        status_code=status,
    )


@requires()
async def proposal_page(request: Request) -> Response:
    return await _proposal_page(request)


@requires()
async def approve(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key, max_fields=100)
    values = form_text.fields(form, (*EDITED, "note"))
    chosen = [str(slug)[:100] for slug in form.getlist("challenges")]
    edit = proposals.ExampleEdit(**{name: values[name] for name in EDITED}, challenge_slugs=chosen)
    try:
        async with app.transaction() as session:
            await approve_proposal(
                session,
                current(request),
                request.path_params["proposal_id"],
                edit,
                note=values["note"],
                smtputf8=app.settings.smtp_utf8,
                now=utcnow(),
            )
    except InvalidProposal as exc:
        return await _proposal_page(
            request, values=values, errors=dict(exc.fields), chosen=chosen, status=422
        )
    return flash.redirect(request, page_link(request, "organiser_proposals"), "approved")


@requires()
async def reject(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    note = form_text.field(form, "reject_note", proposals.MAX_NOTE + 100)
    try:
        async with app.transaction() as session:
            await reject_proposal(
                session,
                current(request),
                request.path_params["proposal_id"],
                note=note,
                now=utcnow(),
            )
    except InvalidProposal as exc:
        errors = {"reject_note": exc.fields["note"]} if "note" in exc.fields else {}
        return await _proposal_page(request, errors=errors, status=422)
    return flash.redirect(request, page_link(request, "organiser_proposals"), "rejected")


class ApproveRequest(BaseModel):
    """How the proposal is published: each member left out keeps the proposal's own text
    (the slug: one made from the title)."""

    model_config = ConfigDict(strict=True, extra="forbid")  # typed_body.validated says so

    slug: str | None = Field(default=None, max_length=80, description="The example's address")
    title: str | None = Field(default=None, max_length=proposals.MAX_TITLE)
    organisation: str | None = Field(default=None, max_length=proposals.MAX_LINE)
    organisation_type: Literal["kommun", "region", "lansstyrelse", "myndighet"] = Field(
        description="Who ran it; the proposal does not say, so it is required here"
    )
    region: str = Field(default="", max_length=100, description="Region or county")
    summary: str | None = Field(default=None, max_length=proposals.MAX_SUMMARY)
    body: str | None = Field(default=None, max_length=proposals.MAX_BODY)
    contact_name: str | None = Field(default=None, max_length=proposals.MAX_LINE)
    contact_email: str | None = Field(default=None, max_length=proposals.MAX_EMAIL)
    contact_role: str | None = Field(default=None, max_length=proposals.MAX_LINE)
    contact_phone: str | None = Field(
        default=None, max_length=proposals.MAX_PHONE, description="Empty publishes no number"
    )
    challenges: list[str] = Field(
        default_factory=list, max_length=20, description="Slugs of the example's challenges"
    )
    note: str = Field(
        default="", max_length=proposals.MAX_NOTE, description="Mailed to the proposer"
    )


class RejectRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # typed_body.validated says so

    note: str = Field(
        max_length=proposals.MAX_NOTE,
        description="Why it is not taken; mailed to the proposer, so it may not be empty",
    )


class Approved(BaseModel):
    status: Literal["approved"]
    slug: str = Field(description="The new example's address in the guide")
    url: str = Field(json_schema_extra={"format": "uri"}, description="The example's page")


class Rejected(BaseModel):
    status: Literal["rejected"]


def _json(model: BaseModel) -> Response:
    return JSONResponse(model.model_dump(mode="json"))


@requires_token()
async def approve_by_api(request: Request) -> Response:
    app = services(request)
    body = await json_object(request, declared=ApproveRequest.model_fields)
    asked = validated(ApproveRequest, body)
    edit = proposals.ExampleEdit(
        **{name: getattr(asked, name) for name in EDITED}, challenge_slugs=asked.challenges
    )
    async with app.transaction() as session:
        example = await approve_proposal(
            session,
            current(request),
            request.path_params["proposal_id"],
            edit,
            note=asked.note,
            smtputf8=app.settings.smtp_utf8,
            now=utcnow(),
        )
    link = url(app.settings.base_url, "guide_example", slug=example.slug)
    return _json(Approved(status="approved", slug=example.slug, url=link))


@requires_token()
async def reject_by_api(request: Request) -> Response:
    app = services(request)
    body = await json_object(request, declared=RejectRequest.model_fields)
    asked = validated(RejectRequest, body)
    async with app.transaction() as session:
        await reject_proposal(
            session,
            current(request),
            request.path_params["proposal_id"],
            note=asked.note,
            now=utcnow(),
        )
    return _json(Rejected(status="rejected"))


WWW_AUTHENTICATE = {
    "description": 'The Bearer challenge (RFC 6750 §3); `error="invalid_token"` when a '
    "token was sent and is unknown, revoked, or its account disabled",
    "required": True,
    "schema": {"type": "string"},
}
RETRY_AFTER = {
    "description": "Seconds to wait (RFC 9110 §10.2.3)",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
REPLIES = {
    400: Reply("Not an I-JSON object (RFC 7493)"),
    401: Reply(
        "No token, or one that is unknown, revoked or disabled",
        headers={"WWW-Authenticate": WWW_AUTHENTICATE},
    ),
    404: Reply("No such proposal"),
    409: Reply("The proposal was already approved or rejected"),
    413: Reply(f"The body is over {ORGANISER_API_LIMIT:,} bytes"),
    415: Reply("Not application/json"),
    422: Reply("Invalid fields; `fields` maps each to a message"),
    429: Reply(
        "Too many refused tokens from this client; try again after Retry-After seconds",
        headers={"Retry-After": RETRY_AFTER},
    ),
}
APPROVE = Operation(
    summary="Approve a proposal to the guide: publish it as an example, mail the proposer",
    description="The proposal's text, changed by any member given, becomes a public example; "
    "the proposer is mailed in the language they wrote in, with `note` and the link.",
    body=ApproveRequest,
    replies={200: Reply("Published", Approved), **REPLIES},
    bearer=True,
)
REJECT = Operation(
    summary="Reject a proposal to the guide with a note; mail the proposer",
    description="Nothing of the proposal becomes public; the proposer is mailed `note` in "
    "the language they wrote in.",
    body=RejectRequest,
    replies={200: Reply("Rejected", Rejected), **REPLIES},
    bearer=True,
)

routes = [
    Route("/organiser/guide/proposals", proposals_page, name="organiser_proposals"),
    Route("/organiser/guide/proposals/{proposal_id:id}", proposal_page, name="organiser_proposal"),
    Route(
        "/organiser/guide/proposals/{proposal_id:id}/approve",
        approve,
        methods=["POST"],
        name="organiser_proposal_approve",
    ),
    Route(
        "/organiser/guide/proposals/{proposal_id:id}/reject",
        reject,
        methods=["POST"],
        name="organiser_proposal_reject",
    ),
    *v1_only(
        "/organiser/guide/proposals/{proposal_id:id}/approve",
        approve_by_api,
        method="POST",
        operation=APPROVE,
    ),
    *v1_only(
        "/organiser/guide/proposals/{proposal_id:id}/reject",
        reject_by_api,
        method="POST",
        operation=REJECT,
    ),
]
