"""The guide's editor in the workspace: examples, tips, processes and challenges listed,
created, edited (with "Förhandsgranska", which renders the Markdown and saves nothing) and
deleted after a confirmation page. Any signed-in organiser edits (organisers.access.requires());
organisers.guide_editing saves through guide.editing and logs each save and deletion.

A list field (activities, results, lessons, questions, linked example slugs) is a textarea of
one item per line, as guide.bulk writes lists in CSV cells; a process's phases and steps are
one textarea in guide.outline's format, where a step links examples by slug and sessions by
number (the sessions to choose among are listed under it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation import csrf, flash, form_text, slugs  # noqa: F401  (slugs registers {name:slug})
from foundation.errors import N_
from foundation.rendering import page_link, render
from foundation.services import services
from foundation.timestamps import utcnow
from guide import editing
from guide.errors import InvalidChallenge, InvalidExample, InvalidProcess, InvalidTip
from guide.models import OrganisationType
from guide.outline import outline_text, read_outline
from organisers.access import current, requires
from organisers.guide_editing import Item, Kind, delete_item, editor, overview, save_item

INVALID = (InvalidExample, InvalidTip, InvalidProcess, InvalidChallenge)
LONG = 60_000  # longer than the longest text (an example's body, 50,000)
PATHS: dict[Kind, str] = {
    "example": "examples",
    "tip": "tips",
    "process": "processes",
    "challenge": "challenges",
}
LIST_HINT = N_("En rad för varje punkt.")
MARKDOWN_HINT = N_("Markdown: tom rad mellan stycken, - i början av raden för en punktlista.")
EXAMPLES_HINT = N_(
    "Adressen (till exempel ystad-regional-karna) till ett exempel på varje rad, i den "
    "ordning de ska visas. Exemplens adresser står under fältet."
)
OUTLINE_HINT = N_(
    "En rad ”## Fasens namn” för varje fas, sedan ”- Stegets rubrik” för varje steg. "
    "Stegets text skrivs på raderna under, indragen med två mellanslag; en indragen rad "
    "”Exempel: adress, adress” kopplar exempel till steget och en rad ”Tillfällen: 12, 15” "
    "kopplar kommande lunchkaféer och workshoppar. ”Kontrollpunkt: …” efter stegen är fasens "
    "kontrollpunkt."
)
SLUG_HINT = N_(
    "Små bokstäver a–z, siffror och bindestreck. Den blir en del av länken och kan inte "
    "ändras efteråt."
)


@dataclass(frozen=True)
class Field:
    """One input of a form: `widget` is "line", "text" (a textarea), "lines" (a textarea,
    one item a line), "number", "email", "tel", "url" or "select" (`options`: value,
    label msgid)."""

    name: str
    label: str
    widget: str = "line"
    required: bool = False
    hint: str | None = None
    rows: int = 4
    limit: int = 300
    options: tuple[tuple[str, str], ...] = ()


TYPES = tuple((t.value, t.label) for t in OrganisationType)
LANGUAGE_OPTIONS = (("sv", N_("svenska")), ("en", N_("engelska")))

FIELDS: dict[Kind, tuple[Field, ...]] = {
    "example": (
        Field("title", N_("Rubrik"), required=True),
        Field("organisation", N_("Organisation"), required=True, limit=200),
        Field("organisation_type", N_("Typ av organisation"), "select", True, options=TYPES),
        Field("region", N_("Region eller län"), limit=100),
        Field("summary", N_("Exemplet på 30 sekunder"), "text", True, rows=4, limit=2_000),
        Field("body", N_("Beskrivning"), "text", hint=MARKDOWN_HINT, rows=12, limit=50_000),
        Field("inhabitants", N_("Antal invånare"), "number", limit=10),
        Field("project_owner", N_("Projektägare"), limit=200),
        Field("project_period", N_("Projektperiod"), limit=100),
        Field("funding", N_("Finansiering")),
        Field("activities", N_("Det här gjorde de"), "lines", hint=LIST_HINT, rows=6, limit=16_000),
        Field("results", N_("Resultat"), "lines", hint=LIST_HINT, rows=4, limit=16_000),
        Field("lessons", N_("Lärdomar"), "lines", hint=LIST_HINT, rows=4, limit=16_000),
        Field("contact_name", N_("Kontaktpersonens namn"), required=True, limit=200),
        Field("contact_role", N_("Kontaktpersonens roll"), limit=200),
        Field("contact_email", N_("Kontaktpersonens e-postadress"), "email", limit=320),
        Field("contact_phone", N_("Kontaktpersonens telefonnummer"), "tel", limit=40),
        Field("source_url", N_("Källa (länk)"), "url", limit=2_000),
        Field("language", N_("Språk"), "select", True, options=LANGUAGE_OPTIONS),
    ),
    "tip": (
        Field("number", N_("Nummer"), "number", True, limit=3),
        Field("title", N_("Rubrik"), required=True),
        Field("text", N_("Text"), "text", hint=MARKDOWN_HINT, rows=6, limit=2_000),
        Field("questions", N_("Tänk på det här!"), "lines", hint=LIST_HINT, rows=4, limit=16_000),
        Field("examples", N_("Hur har andra gjort?"), "lines", hint=EXAMPLES_HINT, limit=4_000),
    ),
    "process": (
        Field("title", N_("Rubrik"), required=True),
        Field("summary", N_("Sammanfattning"), "text", hint=MARKDOWN_HINT, rows=4, limit=2_000),
        Field("phases", N_("Faser och steg"), "text", True, OUTLINE_HINT, rows=18, limit=LONG),
    ),
    "challenge": (
        Field("name", N_("Namn"), required=True, limit=200),
        Field("description", N_("Beskrivning"), "text", hint=MARKDOWN_HINT, limit=2_000),
        Field("position", N_("Plats i ordningen"), "number", limit=3),
    ),
}
LIST_FIELDS = {"activities", "results", "lessons", "questions", "examples"}
HAS_CHALLENGES = {"example", "tip", "process"}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _whole(text: str, empty: int | None) -> int | None:
    # A number that is no number reaches the domain as 0, below every range, so its rule
    # ("Ange ett heltal mellan …") is the one message, given with every other field's.
    # Swedish writes thousands apart: "31 000".
    text = "".join(text.split())
    if not text:
        return empty
    return int(text) if text.isdecimal() and len(text) < 10 else 0


def _values(kind: Kind, item: Item) -> dict[str, Any]:
    """A stored item's inputs as the form shows them."""
    data = item.as_json()
    values: dict[str, Any] = {}
    for spec in FIELDS[kind]:
        if spec.name == "phases":
            assert isinstance(item, editing.ProcessInput)
            values["phases"] = outline_text(item.phases)
        elif spec.name in LIST_FIELDS:
            values[spec.name] = "\n".join(data[spec.name])
        else:
            value = data[spec.name]
            values[spec.name] = "" if value is None else str(value)
    values["slug"] = item.slug
    values["challenges"] = list(data.get("challenges", []))
    return values


def _read(kind: Kind, form: FormData, slug: str | None) -> dict[str, Any]:
    """The form's fields as the form shows them again, each cut to its longest length."""
    values: dict[str, Any] = {
        spec.name: form_text.field(form, spec.name, spec.limit + 100) for spec in FIELDS[kind]
    }
    values["slug"] = slug if slug is not None else form_text.field(form, "slug", 200).strip()
    values["challenges"] = [str(c)[:100] for c in form.getlist("challenges")][:50]
    return values


def _input(kind: Kind, values: dict[str, Any]) -> Item:
    """The input guide.editing saves; raises InvalidProcess for phases it cannot read."""
    v = values
    if kind == "example":
        return editing.ExampleInput(
            slug=v["slug"],
            **{name: v[name] for name in ("title", "organisation", "organisation_type")},
            **{name: v[name] for name in ("summary", "contact_name", "region", "body")},
            inhabitants=_whole(v["inhabitants"], None),
            project_owner=v["project_owner"].strip() or None,
            project_period=v["project_period"].strip() or None,
            funding=v["funding"].strip() or None,
            source_url=v["source_url"].strip() or None,
            activities=_lines(v["activities"]),
            results=_lines(v["results"]),
            lessons=_lines(v["lessons"]),
            contact_role=v["contact_role"],
            contact_email=v["contact_email"].strip(),
            contact_phone=v["contact_phone"].strip(),
            challenges=v["challenges"],
            language=v["language"],
        )
    if kind == "tip":
        return editing.TipInput(
            slug=v["slug"],
            number=_whole(v["number"], 0) or 0,
            title=v["title"],
            text=v["text"],
            questions=_lines(v["questions"]),
            examples=_lines(v["examples"]),
            challenges=v["challenges"],
        )
    if kind == "process":
        return editing.ProcessInput(
            slug=v["slug"],
            title=v["title"],
            summary=v["summary"],
            phases=read_outline(v["phases"]),
            challenges=v["challenges"],
        )
    return editing.ChallengeInput(
        slug=v["slug"],
        name=v["name"],
        description=v["description"],
        position=_whole(v["position"], 0) or 0,
    )


def _field_errors(fields: dict[str, str]) -> dict[str, str]:
    # A phase's or step's error ("phases.0.steps.1.title") belongs to the one textarea.
    errors: dict[str, str] = {}
    for name, message in fields.items():
        errors.setdefault(name.split(".")[0], message)
    return errors


async def _page(
    request: Request,
    kind: Kind,
    slug: str | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    preview: Item | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    async with services(request).transaction() as session:
        found = await editor(session, kind, slug, utcnow())
    if slug is not None and found.item is None:
        raise HTTPException(404)
    if values is None:
        values = _values(kind, found.item) if found.item else {"challenges": [], "language": "sv"}
    return render(
        request,
        "organiser/guide/form.html",
        {
            "organiser": current(request),
            "kind": kind,
            "path": PATHS[kind],
            "slug": slug,
            "fields": FIELDS[kind],
            "values": values,
            "errors": errors or {},
            "preview": preview,
            "preview_phases": read_outline(values["phases"])
            if preview and kind == "process"
            else [],
            "challenges": found.challenges if kind in HAS_CHALLENGES else [],
            "examples": found.examples if kind in ("tip", "process") else [],
            "events": found.events,
            "slug_hint": SLUG_HINT,
            "done": done,
        },
        status_code=status,
    )


async def _post(request: Request, kind: Kind, slug: str | None) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key, max_fields=200)
    values = _read(kind, form, slug)
    try:
        item = _input(kind, values)
    except InvalidProcess as exc:
        errors = _field_errors(dict(exc.fields))
        return await _page(request, kind, slug, values=values, errors=errors, status=422)
    if form.get("action") == "preview":
        return await _page(request, kind, slug, values=values, preview=item)
    try:
        async with app.transaction() as session:
            await save_item(session, current(request), item, new=slug is None, now=utcnow())
    except INVALID as exc:
        errors = _field_errors(dict(exc.fields))
        return await _page(request, kind, slug, values=values, errors=errors, status=422)
    target = page_link(request, f"organiser_guide_{kind}", **{kind: item.slug})
    return flash.redirect(request, target, "saved")


async def _delete_page(request: Request, kind: Kind) -> Response:
    slug = request.path_params[kind]
    async with services(request).transaction() as session:
        found = await editor(session, kind, slug, utcnow())
    if found.item is None:
        raise HTTPException(404)
    title = found.item.name if isinstance(found.item, editing.ChallengeInput) else found.item.title
    return render(
        request,
        "organiser/guide/delete.html",
        {"organiser": current(request), "kind": kind, "slug": slug, "title": title},
    )


async def _delete(request: Request, kind: Kind) -> Response:
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    async with app.transaction() as session:
        removed = await delete_item(
            session, current(request), kind, request.path_params[kind], now=utcnow()
        )
    if not removed:
        raise HTTPException(404)
    return flash.redirect(request, page_link(request, "organiser_guide"), f"{kind}-deleted")


@requires()
async def guide_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        found = await overview(session)
    done = flash.read(request, services(request).settings.secret_key)
    response = render(
        request,
        "organiser/guide/index.html",
        {"organiser": current(request), "guide": found, "done": done},
    )
    return flash.forget(request, response)


def _routes(kind: Kind) -> list[Route]:
    prefix = f"/organiser/guide/{PATHS[kind]}"

    @requires()
    async def new_page(request: Request) -> Response:
        return await _page(request, kind, None)

    @requires()
    async def create(request: Request) -> Response:
        return await _post(request, kind, None)

    @requires()
    async def edit_page(request: Request) -> Response:
        done = flash.read(request, services(request).settings.secret_key)
        response = await _page(request, kind, request.path_params[kind], done=done)
        return flash.forget(request, response)

    @requires()
    async def save(request: Request) -> Response:
        return await _post(request, kind, request.path_params[kind])

    @requires()
    async def delete_page(request: Request) -> Response:
        return await _delete_page(request, kind)

    @requires()
    async def delete(request: Request) -> Response:
        return await _delete(request, kind)

    name = f"organiser_guide_{kind}"
    return [
        Route(f"{prefix}/new", new_page, name=f"{name}_new"),
        Route(f"{prefix}/new", create, methods=["POST"], name=f"{name}_create"),
        Route(f"{prefix}/{{{kind}:slug}}", edit_page, name=name),
        Route(f"{prefix}/{{{kind}:slug}}", save, methods=["POST"], name=f"{name}_save"),
        Route(f"{prefix}/{{{kind}:slug}}/delete", delete_page, name=f"{name}_delete"),
        Route(f"{prefix}/{{{kind}:slug}}/delete", delete, methods=["POST"], name=f"{name}_deleted"),
    ]


routes = [
    Route("/organiser/guide", guide_page, name="organiser_guide"),
    *(route for kind in PATHS for route in _routes(kind)),
]
