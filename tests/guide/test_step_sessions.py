"""A process step links the sessions that work on it (issue 12 item 1: "Each step can link
examples and upcoming workshops"): the process page shows under each step its upcoming
published sessions with time, seats and a way to book, never a draft, a cancelled or an
ended one; the guide's JSON leaves the links out and an import keeps them."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from events.models import Event
from events.schedule import delete_draft, mark_cancelled
from foundation.page_memo import FRESH_COOKIE
from foundation.services import Services
from foundation.timestamps import utcnow
from guide.bulk import export_document, import_items, read_document
from guide.editing import PhaseInput, ProcessInput, StepInput, save_process
from guide.errors import InvalidProcess, ProcessNotFound
from guide.methods import get_process, link_step_session
from guide.models import StepEvent
from lunchkafe.demo import load_demo
from tests.factories import add_confirmed, make_event
from tests.signing_in import text_of

SLUG = "sex-steg"


def process(first: list[int] | None, second: list[int] | None = None) -> ProcessInput:
    return ProcessInput(
        slug=SLUG,
        published_on=date(2025, 1, 1),
        title="Platsutveckling",
        phases=[
            PhaseInput(
                "Förstå platsen",
                [StepInput("Förankring", events=first), StepInput("Kartläggning", events=second)],
                checkpoint="Står alla bakom?",
            )
        ],
    )


def step_part(html: str, number: int) -> str:
    """The HTML of step `number` on a process page, from its heading to the next step's."""
    start = html.index(f"Steg {number}:")
    end = html.find("Steg ", start + 5)
    return html[start : end if end > 0 else len(html)]


async def linked(services: Services) -> list[tuple[str, int]]:
    async with services.transaction() as session:
        found = await get_process(session, SLUG)
        assert found is not None
        return [(s.title, i) for p in found.phases for s in p.steps for i in s.event_ids]


async def test_a_step_shows_its_upcoming_sessions_and_never_a_draft_cancelled_or_ended_one(
    services: Services, client: httpx.AsyncClient
) -> None:
    soon = utcnow().replace(microsecond=0) + timedelta(days=5)
    shown = await make_event(
        services,
        title="Workshop om förankring",
        starts_at=soon,
        ends_at=soon + timedelta(hours=3),
        capacity=25,
    )
    later = await make_event(
        services,
        title="Kafé om kartläggning",
        starts_at=soon + timedelta(days=7),
        ends_at=soon + timedelta(days=7, hours=1),
    )
    draft = await make_event(services, title="Utkast som ingen ska se", publish=False)
    cancelled = await make_event(services, title="Inställt kafé")
    ended = await make_event(
        services,
        title="Kafé som redan varit",
        starts_at=utcnow() - timedelta(days=2),
        ends_at=utcnow() - timedelta(days=2) + timedelta(hours=1),
    )
    async with services.transaction() as session:
        await mark_cancelled(session, cancelled.id)
        await save_process(
            session, process([shown.id, draft.id, cancelled.id, ended.id], [later.id])
        )

    page = await client.get(f"/guide/processes/{SLUG}")
    assert page.status_code == 200
    first, second = step_part(page.text, 1), step_part(page.text, 2)
    assert "Kommande tillfällen för steget" in first
    assert f'href="/events/{shown.id}"' in first
    assert f'href="/events/{shown.id}#book-title"' in first
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", first))
    assert "Workshop om förankring" in said
    assert "25 platser kvar" in said
    assert " kl. " in said  # the date and the time, as the site writes them
    assert "Boka plats" in said
    for hidden in (draft, cancelled, ended):
        assert f"/events/{hidden.id}" not in page.text
        assert hidden.title not in page.text
    # Each step shows its own sessions only.
    assert f'href="/events/{later.id}"' in second
    assert f'href="/events/{later.id}"' not in first

    # Cancelled after it was shown: it drops off the page (read anew, as after a booking).
    async with services.transaction() as session:
        await mark_cancelled(session, shown.id)
    client.cookies.set(FRESH_COOKIE, "1")
    again = await client.get(f"/guide/processes/{SLUG}")
    assert "Workshop om förankring" not in again.text
    assert "Kommande tillfällen för steget" not in step_part(again.text, 1)
    # The link itself stays: were the session set right again, it would come back.
    assert (await linked(services))[0] == ("Förankring", shown.id)


async def test_a_full_session_offers_the_queue(
    services: Services, client: httpx.AsyncClient
) -> None:
    full = await make_event(services, title="Fullt kafé", capacity=1)
    async with services.transaction() as session:
        await save_process(session, process([full.id]))
    await add_confirmed(services, full.id, range(1))
    said = text_of(await client.get(f"/guide/processes/{SLUG}"))
    assert "Fullt kafé" in said
    assert "Fullbokat – du kan ställa dig i kö" in said
    assert "Ställ dig i kö" in said


async def test_saving_keeps_or_replaces_a_steps_sessions_and_refuses_unknown_ones(
    services: Services,
) -> None:
    one = await make_event(services, title="Ett")
    two = await make_event(services, title="Två")
    async with services.transaction() as session:
        await save_process(session, dataclasses.replace(process([]), updated_on=date(2025, 2, 1)))
        # Once each, in the order given; linking alone is no change to the text, so the
        # updated date stays.
        await save_process(session, process([one.id, two.id, one.id]))
    assert await linked(services) == [("Förankring", one.id), ("Förankring", two.id)]
    async with services.transaction() as session:
        stored = await get_process(session, SLUG)
        assert stored is not None
        assert stored.updated_on == date(2025, 2, 1)

    # Without sessions (None, as an import has it) a step keeps those of the stored step of
    # its title, even when the text changes and the steps are written anew.
    changed = dataclasses.replace(
        process(None),
        phases=[
            PhaseInput("Förstå platsen", [StepInput("Ny först"), StepInput("Förankring", "Ny.")])
        ],
    )
    async with services.transaction() as session:
        await save_process(session, changed)
    assert await linked(services) == [("Förankring", one.id), ("Förankring", two.id)]

    # Given, they are what is given.
    async with services.transaction() as session:
        await save_process(session, process([two.id], [one.id]))
    assert await linked(services) == [("Förankring", two.id), ("Kartläggning", one.id)]

    with pytest.raises(InvalidProcess) as refused:
        async with services.transaction() as session:
            await save_process(session, process([one.id, 999_999]))
    assert refused.value.fields == {
        "phases.0.steps.0.events": "Tillfälle nummer 999999 finns inte."
    }
    assert await linked(services) == [("Förankring", two.id), ("Kartläggning", one.id)]

    # A session deleted for good (a draft) leaves the step.
    draft = await make_event(services, title="Utkast", publish=False)
    async with services.transaction() as session:
        await save_process(session, process([draft.id], []))
    async with services.transaction() as session:
        await delete_draft(session, draft.id)
    assert await linked(services) == []


async def test_the_guides_json_leaves_the_sessions_out_and_an_import_keeps_them(
    services: Services,
) -> None:
    """An event's id names a row of one database: another installation, or this one after
    the event is gone, would link the wrong session or none. So the export leaves step
    sessions out, an import refuses them, and importing the export keeps the links."""
    event = await make_event(services)
    async with services.transaction() as session:
        await save_process(session, process([event.id]))
        document = await export_document(session, ["processes"])
    steps = document["processes"][0]["phases"][0]["steps"]
    assert all("events" not in step for step in steps)

    async with services.transaction() as session:
        await import_items(session, read_document(json.dumps(document).encode()))
    assert await linked(services) == [("Förankring", event.id)]

    steps[0]["events"] = [event.id]
    rows = read_document(json.dumps(document).encode())
    assert rows[0].faults, "a step's sessions are not part of the JSON"


async def test_link_step_session_links_once_and_names_a_missing_step(
    services: Services,
) -> None:
    event = await make_event(services)
    async with services.transaction() as session:
        await save_process(session, process([]))
        await link_step_session(session, process_slug=SLUG, step_number=2, event_id=event.id)
        await link_step_session(session, process_slug=SLUG, step_number=2, event_id=event.id)
    assert await linked(services) == [("Kartläggning", event.id)]
    with pytest.raises(InvalidProcess):
        async with services.transaction() as session:
            await link_step_session(session, process_slug=SLUG, step_number=3, event_id=event.id)
    with pytest.raises(ProcessNotFound):
        async with services.transaction() as session:
            await link_step_session(session, process_slug="nej", step_number=1, event_id=1)


async def test_the_demo_offers_its_workshop_under_the_first_step(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        workshop = await session.scalar(
            select(Event.id).where(Event.title.startswith("Platsutveckling i sex steg"))
        )
        assert await session.scalar(select(func.count()).select_from(StepEvent)) == 1
    html = (await client.get("/guide/processes/platsutveckling-i-sex-steg")).text
    assert f'href="/events/{workshop}#book-title"' in step_part(html, 1)
    for number in range(2, 7):
        assert "Kommande tillfällen för steget" not in step_part(html, number)


async def test_a_session_that_cannot_be_booked_now_says_why_instead_of_boka_plats(
    services: Services, client: httpx.AsyncClient
) -> None:
    """A session under way, or whose registration has closed, is still shown under its step
    (it has not ended) with its seats as the other lists show them, but with the reason it
    cannot be booked, as its own page gives it, where the others have "Boka plats"."""
    now = utcnow().replace(microsecond=0)
    open_one = await make_event(
        services,
        title="Öppet kafé",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=1),
    )
    under_way = await make_event(
        services,
        title="Pågående kafé",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(hours=2),
    )
    closed = await make_event(
        services,
        title="Stängt kafé",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=1),
        registration_closes_at=now - timedelta(hours=1),
    )
    async with services.transaction() as session:
        await save_process(session, process([open_one.id, under_way.id, closed.id]))

    page = await client.get(f"/guide/processes/{SLUG}")
    first = step_part(page.text, 1)
    said = text_of(httpx.Response(200, text=first))
    assert f'href="/events/{open_one.id}#book-title"' in first
    for shut in (under_way, closed):
        assert f'href="/events/{shut.id}"' in first
        assert f'href="/events/{shut.id}#book-title"' not in first
    assert said.count("Boka plats") == 1
    # Each reason in the session's own item.
    items = [text_of(httpx.Response(200, text=item)) for item in first.split("<li>")[1:]]
    assert [i for i in items if "Evenemanget har redan börjat." in i] == [
        i for i in items if "Pågående kafé" in i
    ]
    assert [i for i in items if "Anmälan har stängt." in i] == [
        i for i in items if "Stängt kafé" in i
    ]
    assert len(items) == 3
    assert said.count("20 platser kvar") == 3  # macros.seats, as every list shows seats

    # On an English page the titles are marked as Swedish, as in the other lists.
    english = (await client.get(f"/guide/processes/{SLUG}?lang=en")).text
    assert f'<a href="/events/{under_way.id}" lang="sv">Pågående kafé</a>' in english
