"""Saving the guide's material: one input shape per kind, keyed by slug, saved idempotently.

The workspace editor, `lunchkafe guide import` and the demo all save through these:

- `ChallengeInput` → `save_challenge`, raises InvalidChallenge;
- `ExampleInput` → `save_example`, raises InvalidExample;
- `TipInput` → `save_tip`, raises InvalidTip;
- `ProcessInput` (of `PhaseInput`s of `StepInput`s) → `save_process`, raises InvalidProcess.

A save creates the item its slug does not name yet, or changes the one it names; saving the
same input twice changes nothing the second time (no row is written, no date moves). Each
raises its error with every bad field at once (`fields`: field → Swedish msgid; a phase's or
a step's field by its path, "phases.0.steps.1.title") and writes nothing then. Nothing is
committed here: the caller's unit of work commits (or an import rolls back all on one bad
row).

Dates: `published_on` None keeps the stored date (today for a new item); `updated_on` None
becomes today when anything changed and stays otherwise; a date given is stored as given (an
export read back in keeps its dates).

`*_input(row)` gives the input that saves a stored item as it is (the export's shape), and
`.as_json()` / `from_json(mapping)` turn an input into JSON-ready values and back;
`from_json` raises the kind's error for members of the wrong type or unknown members.

A step's sessions (`StepInput.events`, event ids) are not part of the JSON: an event's id
names a row of one database, not something another installation or a later import could
find again, and events are not in the guide's export. An input without them (None) keeps the
sessions the stored step of the same title had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.models import Event
from events.rules import MSG_TITLE_REQUIRED
from foundation.errors import N_, FilledMessage
from guide import fields as check
from guide import search
from guide.errors import InvalidChallenge, InvalidExample, InvalidProcess, InvalidTip
from guide.json_shapes import Reader
from guide.models import (
    Challenge,
    GuideExample,
    GuideProcess,
    GuideTip,
    OrganisationType,
    ProcessPhase,
    ProcessStep,
    StepEvent,
    StepExample,
    TipExample,
    today,
)

MSG_NAME_REQUIRED = N_("Ange ett namn.")
MSG_ORGANISATION_REQUIRED = N_("Ange organisationen.")
MSG_ORGANISATION_TYPE = N_("Välj kommun, region, länsstyrelse eller myndighet.")
MSG_SUMMARY_REQUIRED = N_("Skriv vad exemplet handlar om på 30 sekunder.")
MSG_CONTACT_REQUIRED = N_("Ange en kontaktperson.")
MSG_CONTACT_WAY = N_("Ange kontaktpersonens e-postadress eller telefonnummer.")
MSG_LANGUAGE = N_("Välj svenska (sv) eller engelska (en).")
MSG_UNKNOWN_CHALLENGE = N_("Utmaningen på rad %(n)d finns inte.")
MSG_UNKNOWN_EXAMPLE = N_("Exemplet på rad %(n)d finns inte.")
MSG_TWICE = N_("Rad %(n)d står redan längre upp.")
MSG_UPDATED_BEFORE_PUBLISHED = N_("Uppdaterad kan inte vara före publicerad.")
MSG_NO_PHASES = N_("En process har minst en fas.")
MSG_NO_STEPS = N_("En fas har minst ett steg.")
MSG_UNKNOWN_EVENT = N_("Tillfälle nummer %(id)d finns inte.")

MAX_TITLE = 300
MAX_ORGANISATION = 200
MAX_REGION = 100
MAX_SUMMARY = 2_000
MAX_BODY = 50_000
MAX_FACT = 200
MAX_PERIOD = 100
MAX_FUNDING = 300
MAX_CHALLENGE_NAME = 200
MAX_INHABITANTS = 20_000_000
MAX_NUMBER = 999
MAX_POSITION = 999
MAX_PHASES = 12
MAX_STEPS = 30
MAX_STEP_EVENTS = 20
LANGUAGES = ("sv", "en")
SlugRow = TypeVar("SlugRow", Challenge, GuideExample)


def _json_values(value: object) -> Any:
    """Dates as ISO 8601 text (RFC 3339 full-date), everything else as it is."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_values(v) for v in value]
    return value


@dataclass(frozen=True)
class ChallengeInput:
    """A challenge: `slug` (foundation.slugs), `name` (one line, ≤200), `description`
    (Markdown, ≤2,000), `position` (0–999, the browse page's order; ties by name)."""

    slug: str
    name: str
    description: str = ""
    position: int = 0

    def as_json(self) -> dict[str, Any]:
        return dict(_json_values(asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChallengeInput:
        """Raises InvalidChallenge."""
        read = Reader(data)
        made = cls(
            slug=read.text("slug"),
            name=read.text("name"),
            description=read.text("description", ""),
            position=read.integer("position", 0) or 0,
        )
        read.done(InvalidChallenge)
        return made


@dataclass(frozen=True)
class ExampleInput:
    """A good example. One-line texts: `title` (≤300), `organisation` (≤200), `region`
    ("Södermanlands län", ≤100), the fact box's `project_owner` (≤200), `project_period`
    ("2021–2023", ≤100) and `funding` (≤300), `contact_name`, `contact_role`.
    `organisation_type`: "kommun", "region", "lansstyrelse" or "myndighet". `summary` is the
    "på 30 sekunder" text (≤2,000), `body` Markdown (≤50,000). `activities`, `results`,
    `lessons`: ordered one-line texts (≤500 each, at most 30; empty ones dropped).
    `inhabitants`: 1–20,000,000 or None. A contact person is required, with an e-mail address
    or a phone number ("08-123 45 67") or both. `source_url`: http(s) or None. `challenges`:
    slugs of existing challenges. `language`: "sv" or "en"."""

    slug: str
    title: str
    organisation: str
    organisation_type: str
    summary: str
    contact_name: str
    region: str = ""
    body: str = ""
    inhabitants: int | None = None
    project_owner: str | None = None
    project_period: str | None = None
    funding: str | None = None
    activities: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)
    contact_role: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    source_url: str | None = None
    challenges: list[str] = field(default_factory=list)
    language: str = "sv"
    published_on: date | None = None
    updated_on: date | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(_json_values(asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExampleInput:
        """Raises InvalidExample."""
        read = Reader(data)
        made = cls(
            slug=read.text("slug"),
            title=read.text("title"),
            organisation=read.text("organisation"),
            organisation_type=read.text("organisation_type"),
            summary=read.text("summary"),
            contact_name=read.text("contact_name"),
            region=read.text("region", ""),
            body=read.text("body", ""),
            inhabitants=read.integer("inhabitants", None),
            project_owner=read.optional_text("project_owner"),
            project_period=read.optional_text("project_period"),
            funding=read.optional_text("funding"),
            activities=read.texts("activities"),
            results=read.texts("results"),
            lessons=read.texts("lessons"),
            contact_role=read.text("contact_role", ""),
            contact_email=read.text("contact_email", ""),
            contact_phone=read.text("contact_phone", ""),
            source_url=read.optional_text("source_url"),
            challenges=read.texts("challenges"),
            language=read.text("language", "sv"),
            published_on=read.day("published_on"),
            updated_on=read.day("updated_on"),
        )
        read.done(InvalidExample)
        return made


@dataclass(frozen=True)
class TipInput:
    """A numbered tip ("2. Hitta gemensamma mål och resurser"): `number` 1–999, `title`
    (one line, ≤300), `text` (Markdown, ≤2,000), `questions` ("Tänk på det här!", ordered
    one-line texts), `examples` ("Hur har andra gjort?", slugs of existing examples in
    order, each once), `challenges` (slugs)."""

    slug: str
    number: int
    title: str
    text: str = ""
    questions: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    challenges: list[str] = field(default_factory=list)
    published_on: date | None = None
    updated_on: date | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(_json_values(asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TipInput:
        """Raises InvalidTip."""
        read = Reader(data)
        made = cls(
            slug=read.text("slug"),
            number=read.integer("number", 0) or 0,
            title=read.text("title"),
            text=read.text("text", ""),
            questions=read.texts("questions"),
            examples=read.texts("examples"),
            challenges=read.texts("challenges"),
            published_on=read.day("published_on"),
            updated_on=read.day("updated_on"),
        )
        read.done(InvalidTip)
        return made


@dataclass(frozen=True)
class StepInput:
    """A step: `title` (one line, ≤300), `text` (Markdown, ≤2,000), `examples` (slugs),
    `events`: ids of the sessions that work on the step, in order (at most 20; None keeps
    those of the stored step with this title, see the module's docstring)."""

    title: str
    text: str = ""
    examples: list[str] = field(default_factory=list)
    events: list[int] | None = None


@dataclass(frozen=True)
class PhaseInput:
    """A phase: `title`, its `steps` in order (at least one), and the `checkpoint` to pass
    before the next phase (Markdown, "" for none)."""

    title: str
    steps: list[StepInput]
    checkpoint: str = ""


@dataclass(frozen=True)
class ProcessInput:
    """A process: `title` (one line, ≤300), `summary` (Markdown, ≤2,000), `phases` in order
    (at least one; steps are numbered 1, 2, … across them), `challenges` (slugs)."""

    slug: str
    title: str
    phases: list[PhaseInput]
    summary: str = ""
    challenges: list[str] = field(default_factory=list)
    published_on: date | None = None
    updated_on: date | None = None

    def as_json(self) -> dict[str, Any]:
        """The export's shape: without the steps' sessions (see the module's docstring)."""
        data = dict(_json_values(asdict(self)))
        for phase in data["phases"]:
            for step in phase["steps"]:
                del step["events"]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessInput:
        """Raises InvalidProcess (a phase's member by its path: "phases.0.steps.1.title")."""
        read = Reader(data)
        phases: list[PhaseInput] = []
        for phase in read.objects("phases"):
            steps = [
                StepInput(
                    title=step.text("title"),
                    text=step.text("text", ""),
                    examples=step.texts("examples"),
                )
                for step in phase.objects("steps")
            ]
            phases.append(
                PhaseInput(
                    title=phase.text("title"), steps=steps, checkpoint=phase.text("checkpoint", "")
                )
            )
        made = cls(
            slug=read.text("slug"),
            title=read.text("title"),
            phases=phases,
            summary=read.text("summary", ""),
            challenges=read.texts("challenges"),
            published_on=read.day("published_on"),
            updated_on=read.day("updated_on"),
        )
        read.done(InvalidProcess)
        return made


# --- the stored item as its input (the export's shape) ---------------------------------------


def challenge_input(challenge: Challenge) -> ChallengeInput:
    return ChallengeInput(
        slug=challenge.slug,
        name=challenge.name,
        description=challenge.description,
        position=challenge.position,
    )


def example_input(example: GuideExample) -> ExampleInput:
    """`example` (its challenges loaded) as the input that saves it unchanged."""
    return ExampleInput(
        slug=example.slug,
        title=example.title,
        organisation=example.organisation,
        organisation_type=example.organisation_type.value if example.organisation_type else "",
        summary=example.summary,
        contact_name=example.contact_name,
        region=example.region,
        body=example.body,
        inhabitants=example.inhabitants,
        project_owner=example.project_owner,
        project_period=example.project_period,
        funding=example.funding,
        activities=list(example.activities),
        results=list(example.results),
        lessons=list(example.lessons),
        contact_role=example.contact_role,
        contact_email=example.contact_email,
        contact_phone=example.contact_phone,
        source_url=example.source_url,
        challenges=[c.slug for c in example.challenges],
        language=example.language,
        published_on=example.published_on,
        updated_on=example.updated_on,
    )


def tip_input(tip: GuideTip) -> TipInput:
    """`tip` (challenges and example_links loaded) as the input that saves it unchanged."""
    return TipInput(
        slug=tip.slug,
        number=tip.number,
        title=tip.title,
        text=tip.text,
        questions=list(tip.questions),
        examples=[e.slug for e in tip.examples],
        challenges=[c.slug for c in tip.challenges],
        published_on=tip.published_on,
        updated_on=tip.updated_on,
    )


def process_input(process: GuideProcess) -> ProcessInput:
    """`process` (challenges, phases, steps and their example_links and event_links loaded)
    as the input that saves it unchanged."""
    return ProcessInput(
        slug=process.slug,
        title=process.title,
        summary=process.summary,
        challenges=[c.slug for c in process.challenges],
        phases=[
            PhaseInput(
                title=phase.title,
                checkpoint=phase.checkpoint,
                steps=[
                    StepInput(
                        title=step.title,
                        text=step.text,
                        examples=[e.slug for e in step.examples],
                        events=step.event_ids,
                    )
                    for step in phase.steps
                ],
            )
            for phase in process.phases
        ],
        published_on=process.published_on,
        updated_on=process.updated_on,
    )


# --- checks shared by the kinds ---------------------------------------------------------------


async def _challenges(
    session: AsyncSession, errors: dict[str, str], slugs: Sequence[str]
) -> list[Challenge]:
    found = await _by_slug(session, Challenge, errors, "challenges", slugs, MSG_UNKNOWN_CHALLENGE)
    return sorted(found, key=lambda c: c.name)


async def _examples(
    session: AsyncSession, errors: dict[str, str], key: str, slugs: Sequence[str]
) -> list[GuideExample]:
    return await _by_slug(session, GuideExample, errors, key, slugs, MSG_UNKNOWN_EXAMPLE)


async def _by_slug(
    session: AsyncSession,
    kind: type[SlugRow],
    errors: dict[str, str],
    key: str,
    slugs: Sequence[str],
    unknown: str,
) -> list[SlugRow]:
    """The rows `slugs` name, in their order; the first unknown or repeated one (counted
    from 1) is the field's error."""
    wanted = [s for s in slugs if isinstance(s, str)]
    rows = (await session.scalars(select(kind).where(kind.slug.in_(wanted)))).all()
    named = {row.slug: row for row in rows}
    seen: set[str] = set()
    for n, wanted_slug in enumerate(slugs, start=1):
        if wanted_slug in seen:
            errors[key] = FilledMessage(MSG_TWICE, n=n)
            return []
        if wanted_slug not in named:
            errors[key] = FilledMessage(unknown, n=n)
            return []
        seen.add(wanted_slug)
    return [named[s] for s in slugs]


async def _events(
    session: AsyncSession, errors: dict[str, str], key: str, ids: Sequence[int] | None
) -> list[int] | None:
    """`ids` once each in their order, or None for None; an id no event has (the first) or
    more than MAX_STEP_EVENTS is the field's error."""
    if ids is None:
        return None
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_STEP_EVENTS:
        errors[key] = FilledMessage(check.MSG_TOO_MANY, n=MAX_STEP_EVENTS)
        return []
    found = set((await session.scalars(select(Event.id).where(Event.id.in_(wanted)))).all())
    missing = [i for i in wanted if i not in found]
    if missing:
        errors[key] = FilledMessage(MSG_UNKNOWN_EVENT, id=missing[0])
        return []
    return wanted


def _dates(errors: dict[str, str], published: date | None, updated: date | None) -> None:
    if published is not None and updated is not None and updated < published:
        errors["updated_on"] = MSG_UPDATED_BEFORE_PUBLISHED


def _apply(row: object, values: Mapping[str, object]) -> bool:
    """Set each value that differs on `row`; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _stamp(
    row: GuideExample | GuideTip | GuideProcess,
    *,
    new: bool,
    changed: bool,
    published: date | None,
    updated: date | None,
) -> None:
    if published is not None:
        row.published_on = published
    elif new:
        row.published_on = today()
    if updated is not None:
        row.updated_on = updated
    elif new or changed:
        row.updated_on = today()


# --- saving -----------------------------------------------------------------------------------


async def save_challenge(session: AsyncSession, data: ChallengeInput) -> Challenge:
    """Create or change the challenge `data.slug` names. Raises InvalidChallenge."""
    errors: dict[str, str] = {}
    values = {
        "slug": check.slug(errors, "slug", data.slug),
        "name": check.line(
            errors, "name", data.name, MAX_CHALLENGE_NAME, required=MSG_NAME_REQUIRED
        ),
        "description": check.text(errors, "description", data.description, MAX_SUMMARY),
        "position": check.whole_number(errors, "position", data.position, 0, MAX_POSITION),
    }
    if errors:
        raise InvalidChallenge(errors)
    challenge = await session.scalar(select(Challenge).where(Challenge.slug == data.slug))
    if challenge is None:
        challenge = Challenge(**values)
        session.add(challenge)
    else:
        _apply(challenge, values)
    await session.flush()
    return challenge


async def save_example(session: AsyncSession, data: ExampleInput) -> GuideExample:
    """Create or change the example `data.slug` names (see ExampleInput for each field's
    rule). Raises InvalidExample with every bad field."""
    errors: dict[str, str] = {}
    kinds = {t.value: t for t in OrganisationType}
    if data.organisation_type not in kinds:
        errors["organisation_type"] = MSG_ORGANISATION_TYPE
    if data.language not in LANGUAGES:
        errors["language"] = MSG_LANGUAGE
    values: dict[str, object] = {
        "slug": check.slug(errors, "slug", data.slug),
        "title": check.line(errors, "title", data.title, MAX_TITLE, required=MSG_TITLE_REQUIRED),
        "organisation": check.line(
            errors,
            "organisation",
            data.organisation,
            MAX_ORGANISATION,
            required=MSG_ORGANISATION_REQUIRED,
        ),
        "organisation_type": kinds.get(data.organisation_type),
        "region": check.line(errors, "region", data.region, MAX_REGION),
        "summary": check.text(
            errors, "summary", data.summary, MAX_SUMMARY, required=MSG_SUMMARY_REQUIRED
        ),
        "body": check.text(errors, "body", data.body, MAX_BODY),
        "inhabitants": check.whole_number(
            errors, "inhabitants", data.inhabitants, 1, MAX_INHABITANTS
        ),
        "project_owner": check.optional_line(errors, "project_owner", data.project_owner, MAX_FACT),
        "project_period": check.optional_line(
            errors, "project_period", data.project_period, MAX_PERIOD
        ),
        "funding": check.optional_line(errors, "funding", data.funding, MAX_FUNDING),
        "activities": check.items(errors, "activities", data.activities),
        "results": check.items(errors, "results", data.results),
        "lessons": check.items(errors, "lessons", data.lessons),
        "contact_name": check.person(
            errors, "contact_name", data.contact_name, required=MSG_CONTACT_REQUIRED
        ),
        "contact_role": check.line(errors, "contact_role", data.contact_role, MAX_FACT),
        "contact_email": check.email(errors, "contact_email", data.contact_email),
        "contact_phone": check.phone(errors, "contact_phone", data.contact_phone),
        "source_url": check.url(errors, "source_url", data.source_url),
        "language": data.language,
    }
    if not values["contact_email"] and not values["contact_phone"]:
        errors.setdefault("contact_email", MSG_CONTACT_WAY)
    _dates(errors, data.published_on, data.updated_on)
    challenges = await _challenges(session, errors, data.challenges)
    if errors:
        raise InvalidExample(errors)

    example = await session.scalar(
        select(GuideExample)
        .options(selectinload(GuideExample.challenges))
        .where(GuideExample.slug == data.slug)
    )
    new = example is None
    if example is None:
        example = GuideExample(challenges=[])
        session.add(example)
    changed = _apply(example, values)
    if {c.id for c in example.challenges} != {c.id for c in challenges}:
        example.challenges = challenges
        changed = True
    _stamp(example, new=new, changed=changed, published=data.published_on, updated=data.updated_on)
    await session.flush()
    return example


async def save_tip(session: AsyncSession, data: TipInput) -> GuideTip:
    """Create or change the tip `data.slug` names, its examples in the order given. Raises
    InvalidTip with every bad field."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {
        "slug": check.slug(errors, "slug", data.slug),
        "number": check.whole_number(errors, "number", data.number, 1, MAX_NUMBER),
        "title": check.line(errors, "title", data.title, MAX_TITLE, required=MSG_TITLE_REQUIRED),
        "text": check.text(errors, "text", data.text, MAX_SUMMARY),
        "questions": check.items(errors, "questions", data.questions),
    }
    _dates(errors, data.published_on, data.updated_on)
    challenges = await _challenges(session, errors, data.challenges)
    examples = await _examples(session, errors, "examples", data.examples)
    if errors:
        raise InvalidTip(errors)

    tip = await session.scalar(
        select(GuideTip)
        .options(selectinload(GuideTip.challenges), selectinload(GuideTip.example_links))
        .where(GuideTip.slug == data.slug)
    )
    new = tip is None
    if tip is None:
        tip = GuideTip(challenges=[], example_links=[])
        session.add(tip)
    changed = _apply(tip, values)
    if {c.id for c in tip.challenges} != {c.id for c in challenges}:
        tip.challenges = challenges
        changed = True
    if [link.example_id for link in tip.example_links] != [e.id for e in examples]:
        tip.example_links.clear()
        await session.flush()  # the old links go before the new, which may reuse their keys
        tip.example_links.extend(
            TipExample(example=example, position=n) for n, example in enumerate(examples)
        )
        changed = True
    _stamp(tip, new=new, changed=changed, published=data.published_on, updated=data.updated_on)
    await session.flush()
    return tip


async def save_process(session: AsyncSession, data: ProcessInput) -> GuideProcess:
    """Create or change the process `data.slug` names; when its phases or steps differ they
    are replaced whole (steps have no identity of their own). Raises InvalidProcess with
    every bad field."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {
        "slug": check.slug(errors, "slug", data.slug),
        "title": check.line(errors, "title", data.title, MAX_TITLE, required=MSG_TITLE_REQUIRED),
        "summary": check.text(errors, "summary", data.summary, MAX_SUMMARY),
    }
    _dates(errors, data.published_on, data.updated_on)
    challenges = await _challenges(session, errors, data.challenges)
    if not data.phases:
        errors["phases"] = MSG_NO_PHASES
    elif len(data.phases) > MAX_PHASES:
        errors["phases"] = FilledMessage(check.MSG_TOO_MANY, n=MAX_PHASES)
    Steps = list[tuple[dict[str, object], list[GuideExample], list[int] | None]]
    phases: list[tuple[dict[str, object], Steps]] = []
    for p, phase in enumerate(data.phases[:MAX_PHASES]):
        at = f"phases.{p}"
        phase_values: dict[str, object] = {
            "position": p,
            "title": check.line(
                errors, f"{at}.title", phase.title, MAX_TITLE, required=MSG_TITLE_REQUIRED
            ),
            "checkpoint": check.text(errors, f"{at}.checkpoint", phase.checkpoint, MAX_SUMMARY),
        }
        if not phase.steps:
            errors[f"{at}.steps"] = MSG_NO_STEPS
        elif len(phase.steps) > MAX_STEPS:
            errors[f"{at}.steps"] = FilledMessage(check.MSG_TOO_MANY, n=MAX_STEPS)
        steps = []
        for s, step in enumerate(phase.steps[:MAX_STEPS]):
            step_at = f"{at}.steps.{s}"
            step_values: dict[str, object] = {
                "position": s,
                "title": check.line(
                    errors, f"{step_at}.title", step.title, MAX_TITLE, required=MSG_TITLE_REQUIRED
                ),
                "text": check.text(errors, f"{step_at}.text", step.text, MAX_SUMMARY),
            }
            examples = await _examples(session, errors, f"{step_at}.examples", step.examples)
            events = await _events(session, errors, f"{step_at}.events", step.events)
            steps.append((step_values, examples, events))
        phases.append((phase_values, steps))
    if errors:
        raise InvalidProcess(errors)

    process = await session.scalar(
        select(GuideProcess)
        .options(
            selectinload(GuideProcess.challenges),
            selectinload(GuideProcess.phases)
            .selectinload(ProcessPhase.steps)
            .options(
                selectinload(ProcessStep.example_links), selectinload(ProcessStep.event_links)
            ),
        )
        .where(GuideProcess.slug == data.slug)
    )
    new = process is None
    if process is None:
        process = GuideProcess(challenges=[], phases=[])
        session.add(process)
    changed = _apply(process, values)
    if {c.id for c in process.challenges} != {c.id for c in challenges}:
        process.challenges = challenges
        changed = True
    # Steps have no identity of their own, so a step given without its sessions keeps those
    # of the stored step with its title (an import, which carries none).
    kept: dict[object, list[int]] = {}
    for stored_phase in process.phases:
        for stored_step in stored_phase.steps:
            kept.setdefault(stored_step.title, stored_step.event_ids)
    wanted = [
        (pv, [(sv, ex, kept.get(sv["title"], []) if ev is None else ev) for sv, ex, ev in steps])
        for pv, steps in phases
    ]
    stored = _shape(process)
    shape = [
        (
            pv["title"],
            pv["checkpoint"],
            [(sv["title"], sv["text"], [e.id for e in ex], ev) for sv, ex, ev in steps],
        )
        for pv, steps in wanted
    ]
    if stored != shape:
        # Linking a session is no change to the text: the updated date stays.
        changed = changed or _without_events(stored) != _without_events(shape)
        process.phases.clear()
        await session.flush()
        for phase_values, resolved in wanted:
            phase_row = ProcessPhase(**phase_values, steps=[])
            for step_values, examples, event_ids in resolved:
                phase_row.steps.append(
                    ProcessStep(
                        **step_values,
                        example_links=[
                            StepExample(example=example, position=n)
                            for n, example in enumerate(examples)
                        ],
                        event_links=[
                            StepEvent(event_id=event_id, position=n)
                            for n, event_id in enumerate(event_ids)
                        ],
                    )
                )
            process.phases.append(phase_row)
    _stamp(process, new=new, changed=changed, published=data.published_on, updated=data.updated_on)
    await session.flush()
    return process


def _shape(
    process: GuideProcess,
) -> list[tuple[object, object, list[tuple[object, object, list[int], list[int]]]]]:
    return [
        (
            phase.title,
            phase.checkpoint,
            [
                (
                    step.title,
                    step.text,
                    [link.example_id for link in step.example_links],
                    step.event_ids,
                )
                for step in phase.steps
            ],
        )
        for phase in process.phases
    ]


def _without_events(shape: list[Any]) -> list[Any]:
    return [(title, check, [step[:3] for step in steps]) for title, check, steps in shape]


# --- deleting ---------------------------------------------------------------------------------


async def delete_example(session: AsyncSession, slug: str) -> bool:
    """Remove an example; its links from events, tips and steps go with it. False when no
    example has that slug."""
    return await _delete(session, GuideExample, slug)


async def delete_tip(session: AsyncSession, slug: str) -> bool:
    """Remove a tip and its links. False when no tip has that slug."""
    return await _delete(session, GuideTip, slug)


async def delete_process(session: AsyncSession, slug: str) -> bool:
    """Remove a process, its phases and steps, and its links. False when none has that slug."""
    return await _delete(session, GuideProcess, slug)


async def delete_challenge(session: AsyncSession, slug: str) -> bool:
    """Remove a challenge; what was filed under it stays, under its other challenges."""
    return await _delete(session, Challenge, slug)


async def _delete(
    session: AsyncSession,
    kind: type[GuideExample] | type[GuideTip] | type[GuideProcess] | type[Challenge],
    slug: str,
) -> bool:
    # A bulk DELETE: the database's ON DELETE CASCADE removes links and children on both
    # databases (foreign keys are on for SQLite, foundation.database). No flush event sees
    # it, so the search index is told here (guide.search).
    ids = list((await session.scalars(select(kind.id).where(kind.slug == slug))).all())
    name = _KIND_NAMES[kind]
    connection = await session.connection()
    touched = await connection.run_sync(lambda c: search.touched_by_deleting(c, name, ids))
    removed = await session.execute(delete(kind).where(kind.slug == slug))
    await connection.run_sync(lambda c: search.write_touched(c, touched))
    return bool(getattr(removed, "rowcount", 0))


_KIND_NAMES: dict[type[Any], str] = {
    GuideExample: "example",
    GuideTip: "tip",
    GuideProcess: "process",
    Challenge: "challenge",
}
