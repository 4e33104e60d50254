"""Saving the guide's material (guide.editing): what an editor or an import saves is what a
reader gets back, in order; saving the same thing twice changes nothing; every bad field is
named at once and nothing of a bad item is kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from foundation.services import Services
from foundation.slugs import is_slug
from foundation.text import TextRefused, clean_line
from guide.catalogue import get_example
from guide.editing import (
    ChallengeInput,
    ExampleInput,
    PhaseInput,
    ProcessInput,
    StepInput,
    TipInput,
    delete_example,
    example_input,
    process_input,
    save_challenge,
    save_example,
    save_process,
    save_tip,
    tip_input,
)
from guide.errors import InvalidExample, InvalidProcess, InvalidTip
from guide.methods import get_process, get_tip, numbered_phases
from guide.models import GuideExample, OrganisationType, ProcessStep, today

FULL = ExampleInput(
    slug="sormland-strukturbild",
    title="Strukturbild för regional planering",
    organisation="Region Sörmland",
    organisation_type="region",
    region="Södermanlands län",
    summary="En gemensam bild av hur regionen hänger ihop.",
    body="Strukturbilden togs fram **tillsammans** med kommunerna.",
    inhabitants=300_000,
    project_owner="Region Sörmland",
    project_period="2020–2022",
    funding=None,
    activities=["Workshoppar", "Gemensam analys", "Beslut"],
    results=["En bild alla står bakom"],
    lessons=["Börja tidigt", "Rita hellre än skriv"],
    contact_name="Maja Lindgren",
    contact_role="Regional planerare",
    contact_email="maja.lindgren@example.se",
    contact_phone="016-123 45 67",
    source_url="https://example.se/strukturbild",
    challenges=["samverkan", "samhallsplanering"],
    published_on=date(2025, 2, 10),
    updated_on=date(2026, 9, 1),
)


async def _challenges(services: Services, *slugs: str) -> None:
    async with services.transaction() as session:
        for n, slug in enumerate(slugs):
            await save_challenge(session, ChallengeInput(slug, slug.capitalize(), position=n))


async def _examples(services: Services, *slugs: str) -> None:
    async with services.transaction() as session:
        for slug in slugs:
            await save_example(session, dataclasses.replace(FULL, slug=slug, challenges=[]))


async def test_an_example_reads_back_as_saved_and_saving_it_again_changes_nothing(
    services: Services,
) -> None:
    await _challenges(services, "samhallsplanering", "samverkan")
    async with services.transaction() as session:
        await save_example(session, FULL)
    async with services.transaction() as session:
        stored = await get_example(session, FULL.slug)
        assert stored is not None
        assert stored.organisation_type is OrganisationType.REGION
        assert stored.activities == ["Workshoppar", "Gemensam analys", "Beslut"]
        assert stored.lessons == ["Börja tidigt", "Rita hellre än skriv"]
        assert stored.funding is None
        assert stored.inhabitants == 300_000
        # What the export writes saves the example as it is (challenges by name).
        assert example_input(stored) == dataclasses.replace(
            FULL, challenges=["samhallsplanering", "samverkan"]
        )

    async with services.transaction() as session:
        await save_example(session, FULL)
    async with services.transaction() as session:
        again = await get_example(session, FULL.slug)
        assert again is not None
        assert again.updated_on == date(2026, 9, 1)
        assert await session.scalar(select(func.count()).select_from(GuideExample)) == 1

    # A change without a date given dates the example today; one without change keeps it.
    changed = dataclasses.replace(FULL, lessons=["Rita hellre än skriv"], updated_on=None)
    async with services.transaction() as session:
        await save_example(session, changed)
    async with services.transaction() as session:
        edited = await get_example(session, FULL.slug)
        assert edited is not None
        assert edited.lessons == ["Rita hellre än skriv"]
        assert edited.updated_on == today()
        assert edited.published_on == date(2025, 2, 10)


async def test_every_bad_field_of_an_example_is_named_and_nothing_is_kept(
    services: Services,
) -> None:
    await _challenges(services, "samverkan")
    bad = dataclasses.replace(
        FULL,
        title=" ",
        organisation_type="foretag",
        inhabitants=0,
        contact_email="maja@",
        contact_phone="ring mig",
        source_url="ftp://example.se/a",
        activities=["ok", "x" * 501],
        challenges=["samverkan", "finns-inte"],
        language="de",
        published_on=date(2026, 1, 1),
        updated_on=date(2025, 1, 1),
    )
    with pytest.raises(InvalidExample) as refused:
        async with services.transaction() as session:
            await save_example(session, bad)
    assert set(refused.value.fields) == {
        "title",
        "organisation_type",
        "inhabitants",
        "contact_email",
        "contact_phone",
        "source_url",
        "activities",
        "challenges",
        "language",
        "updated_on",
    }
    assert refused.value.fields["challenges"] == "Utmaningen på rad 2 finns inte."
    no_way = dataclasses.replace(FULL, contact_email="", contact_phone="", challenges=[])
    with pytest.raises(InvalidExample) as unreachable:
        async with services.transaction() as session:
            await save_example(session, no_way)
    assert unreachable.value.fields == {
        "contact_email": "Ange kontaktpersonens e-postadress eller telefonnummer."
    }
    async with services.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(GuideExample)) == 0


async def test_a_tip_keeps_its_questions_and_examples_in_order(services: Services) -> None:
    await _examples(services, "ystad", "sormland", "kramfors")
    tip = TipInput(
        slug="hitta-gemensamma-mal-och-resurser",
        number=2,
        title="Hitta gemensamma mål och resurser",
        text="Samverkan bär när alla ser vad de vinner.",
        questions=["Vilka mål delar ni?", "", "Vem äger frågan sedan?"],
        examples=["sormland", "ystad"],
    )
    async with services.transaction() as session:
        await save_tip(session, tip)
    async with services.transaction() as session:
        stored = await get_tip(session, tip.slug)
        assert stored is not None
        assert stored.questions == ["Vilka mål delar ni?", "Vem äger frågan sedan?"]
        assert [e.slug for e in stored.examples] == ["sormland", "ystad"]
        saved_on = stored.updated_on

    reordered = dataclasses.replace(tip, examples=["kramfors", "ystad", "sormland"])
    async with services.transaction() as session:
        await save_tip(session, reordered)
    async with services.transaction() as session:
        stored = await get_tip(session, tip.slug)
        assert stored is not None
        assert [e.slug for e in stored.examples] == ["kramfors", "ystad", "sormland"]
        assert tip_input(stored) == dataclasses.replace(
            reordered,
            questions=["Vilka mål delar ni?", "Vem äger frågan sedan?"],
            published_on=saved_on,
            updated_on=saved_on,
        )

    for examples, message in (
        (["ystad", "finns-inte"], "Exemplet på rad 2 finns inte."),
        (["ystad", "kramfors", "ystad"], "Rad 3 står redan längre upp."),
    ):
        with pytest.raises(InvalidTip) as refused:
            async with services.transaction() as session:
                await save_tip(session, dataclasses.replace(tip, examples=examples, number=0))
        assert refused.value.fields == {
            "examples": message,
            "number": "Ange ett heltal mellan 1 och 999.",
        }


PROCESS = ProcessInput(
    slug="platsutveckling",
    title="Platsutveckling i sex steg",
    phases=[
        PhaseInput(
            "Förstå platsen",
            [StepInput("Förankring", examples=["a"]), StepInput("Kartläggning")],
            checkpoint="Står alla bakom?",
        ),
        PhaseInput("Forma framtiden", [StepInput("Målbild", "Tillsammans.", ["b", "a"])]),
    ],
)


async def test_a_process_numbers_its_steps_across_phases_and_is_rewritten_only_on_change(
    services: Services,
) -> None:
    await _examples(services, "a", "b")
    async with services.transaction() as session:
        await save_process(session, PROCESS)

    async def step_ids() -> list[int]:
        async with services.transaction() as session:
            return list(await session.scalars(select(ProcessStep.id).order_by(ProcessStep.id)))

    first = await step_ids()
    async with services.transaction() as session:
        process = await get_process(session, PROCESS.slug)
        assert process is not None
        phases = numbered_phases(process)
        assert [(p.number, p.checkpoint) for p in phases] == [(1, "Står alla bakom?"), (2, "")]
        assert [(s.number, s.step.title) for p in phases for s in p.steps] == [
            (1, "Förankring"),
            (2, "Kartläggning"),
            (3, "Målbild"),
        ]
        assert [e.slug for e in phases[1].steps[0].examples] == ["b", "a"]
        # The stored steps link no sessions ([]); the input left them unsaid (None).
        assert (
            process_input(process).as_json()
            == dataclasses.replace(
                PROCESS, published_on=process.published_on, updated_on=process.updated_on
            ).as_json()
        )
        assert [s.events for p in process_input(process).phases for s in p.steps] == [[], [], []]

    async with services.transaction() as session:
        await save_process(session, PROCESS)
    assert await step_ids() == first

    two_phases_one_step = dataclasses.replace(PROCESS, phases=PROCESS.phases[1:])
    async with services.transaction() as session:
        await save_process(session, two_phases_one_step)
    assert len(await step_ids()) == 1

    bad = dataclasses.replace(
        PROCESS,
        phases=[PhaseInput("", []), PhaseInput("Ok", [StepInput("Steg", examples=["c"])])],
    )
    with pytest.raises(InvalidProcess) as refused:
        async with services.transaction() as session:
            await save_process(session, bad)
    assert refused.value.fields == {
        "phases.0.title": "Ange en titel.",
        "phases.0.steps": "En fas har minst ett steg.",
        "phases.1.steps.0.examples": "Exemplet på rad 1 finns inte.",
    }


def test_the_json_shape_round_trips_and_names_wrong_types_by_their_path() -> None:
    assert ExampleInput.from_json(FULL.as_json()) == FULL
    assert ProcessInput.from_json(PROCESS.as_json()) == PROCESS
    with pytest.raises(InvalidExample) as refused:
        ExampleInput.from_json(
            {**FULL.as_json(), "inhabitants": "300000", "published_on": "10/2/2025", "venu": 1}
        )
    assert set(refused.value.fields) == {"inhabitants", "published_on", "venu"}
    shape: dict[str, Any] = PROCESS.as_json()
    shape["phases"][1]["steps"][0]["examples"] = "b"
    shape["phases"][0]["colour"] = "blå"
    with pytest.raises(InvalidProcess) as nested:
        ProcessInput.from_json(shape)
    assert set(nested.value.fields) == {"phases.1.steps.0.examples", "phases.0.colour"}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(slug=st.text(max_size=90), title=st.text(max_size=320), item=st.text(max_size=40))
@example(slug="sörmland", title="Titel", item="ok")
@example(slug="a" * 80, title="\x00", item="\u202e")
async def test_any_text_is_saved_as_cleaned_or_refused_by_field(
    services: Services, slug: str, title: str, item: str
) -> None:
    """Whatever is typed, the save either stores it (and reads it back the same, on both
    databases) or names the field: never a database error, never a half-stored example."""
    data = dataclasses.replace(FULL, slug=slug, title=title, activities=[item], challenges=[])
    refused: dict[str, str] = {}
    try:
        async with services.transaction() as session:
            saved_id = (await save_example(session, data)).id
    except InvalidExample as exc:
        refused = exc.fields
    if refused:
        assert set(refused) <= {"slug", "title", "activities"}
        assert ("slug" in refused) == (not is_slug(slug))
        return
    assert is_slug(slug)
    async with services.transaction() as session:
        stored = await session.get(GuideExample, saved_id)
        assert stored is not None
        assert stored.title == " ".join(stored.title.split())
        assert stored.title
        try:
            expected = clean_line(item, max_length=500)
        except TextRefused:  # pragma: no cover  (a refused item is refused above)
            raise AssertionError(item) from None
        assert stored.activities == ([expected] if expected else [])
        assert await delete_example(session, slug)
