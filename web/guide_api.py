"""The guide's examples as JSON for integrations: searched in Swedish (guide.finding) and
filtered, with each example's contact person. A public read (CORS, foundation.cors)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from foundation.openapi import Operation, Reply, v1_only
from foundation.services import services
from foundation.site_paths import url
from guide import catalogue, finding
from guide.models import GuideExample

MAX_PARAM = 200  # characters of a query parameter that are read


class Contact(BaseModel):
    name: str
    role: str
    email: str
    phone: str


class ExampleFound(BaseModel):
    title: str
    url: str = Field(json_schema_extra={"format": "uri"}, description="The example's page")
    organisation: str
    organisation_type: str | None = Field(description="kommun, region, lansstyrelse, myndighet")
    region: str
    challenges: list[str] = Field(description="The slugs of its challenges")
    summary: str = Field(description="The example 'på 30 sekunder'")
    contact: Contact


class ExampleList(BaseModel):
    examples: list[ExampleFound] = Field(
        description="Without `q`: every example by title; with it: those holding every word "
        "of it (Swedish stems, each word a prefix), by relevance or `sort=date`"
    )


def _found(base: str, example: GuideExample) -> ExampleFound:
    kind = example.organisation_type
    return ExampleFound(
        title=example.title,
        url=url(base, "guide_example", slug=example.slug),
        organisation=example.organisation,
        organisation_type=kind.value if kind is not None else None,
        region=example.region,
        challenges=[c.slug for c in example.challenges],
        summary=example.summary,
        contact=Contact(
            name=example.contact_name,
            role=example.contact_role,
            email=example.contact_email,
            phone=example.contact_phone,
        ),
    )


async def list_examples(request: Request) -> Response:
    app = services(request)
    params = {k: v[:MAX_PARAM] for k, v in request.query_params.items()}
    query = params.get("q", "").strip()
    sort: Literal["relevance", "date"] = "date" if params.get("sort") == "date" else "relevance"
    async with app.reading() as session:
        if query:
            hits = await finding.find(
                session,
                query,
                challenge=params.get("challenge") or None,
                organisation_type=params.get("organisation_type") or None,
                region=params.get("region") or None,
                kinds=("example",),
                sort=sort,
                snippets=False,  # the API shows none: not read nor made for every hit
            )
            examples = [hit.item for hit in hits if isinstance(hit.item, GuideExample)]
        else:
            examples = await catalogue.examples(session, params.get("challenge") or None)
    answer = ExampleList(examples=[_found(app.settings.base_url, e) for e in examples])
    return JSONResponse(answer.model_dump(mode="json"))


LIST_EXAMPLES = Operation(
    summary="Search the examples of the guide in Swedish",
    description="Query parameters: `q` (words; Swedish stems, each a prefix: `landsbygd` "
    "finds `landsbygdsutveckling`), `challenge` (a slug), `organisation_type`, `region`, "
    "`sort` (`relevance`, the default, or `date`).",
    replies={200: Reply("The examples found", ExampleList)},
    public=True,
)

routes = [*v1_only("/guide/examples", list_examples, method="GET", operation=LIST_EXAMPLES)]
