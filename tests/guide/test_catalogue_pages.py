"""The guide catalogue's public pages on the demo material: the browse page, an example, a
tip, a process and a challenge, each with the upcoming sessions that discuss it."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from lunchkafe.demo import load_demo
from registrations.organising import cancel_event

TIP = "/guide/tips/hitta-gemensamma-mal-och-resurser"
PROCESS = "/guide/processes/platsutveckling-i-sex-steg"
WORKSHOP = "Platsutveckling i sex steg – från förankring till långsiktig organisering"
TIP_CAFE = "Levande landsbygder: planering som håller ihop"


def text_of(html: str) -> str:
    """The page's main content as a reader sees it: tags gone, spaces collapsed."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def booking_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/events/(\d+)#book-title"', html)}


async def event_ids(services: Services) -> dict[str, int]:
    async with services.transaction() as session:
        return {e.title: e.id for e in (await session.scalars(select(Event))).all()}


@pytest.fixture
async def demo(services: Services) -> dict[str, int]:
    await load_demo(services, only_if_empty=False)
    return await event_ids(services)


async def test_the_process_shows_six_steps_in_two_phases_with_the_checkpoint_between(
    client: httpx.AsyncClient, demo: dict[str, int]
) -> None:
    response = await client.get(PROCESS)
    assert response.status_code == 200
    text = text_of(response.text)
    order = [
        "Fas 1: Förstå platsen",
        "Steg 1: Förankring",
        "Coachning av lokala processledare",
        "Steg 2: Kartläggning",
        "Steg 3: Analys av nuläget",
        "Strukturbild för regional planering",
        "Kontrollpunkt",
        "Innan ni går vidare",
        "Fas 2: Forma framtiden",
        "Steg 4: Gemensam målbild",
        "Steg 5: Handlingsplan",
        "Steg 6: Långsiktig organisering",
    ]
    at = [text.index(part) for part in order]
    assert at == sorted(at), text
    assert text.count("Kontrollpunkt") == 1  # the last phase has none
    assert "/guide/sormland-strukturbild" in response.text  # each step's examples link
    # The workshop that follows the method, with a way to book it.
    assert booking_links(response.text) == {demo[WORKSHOP]}


async def test_the_tip_shows_its_number_questions_and_examples(
    client: httpx.AsyncClient, demo: dict[str, int]
) -> None:
    response = await client.get(TIP)
    assert response.status_code == 200
    text = text_of(response.text)
    assert "<h1>2. Hitta gemensamma mål och resurser</h1>" in response.text
    questions = text.index("Tänk på det här!")
    others = text.index("Hur har andra gjort?")
    assert questions < text.index("Vem äger frågan när projekttiden är slut?") < others
    for title in (
        "Ystad som regional kärna",
        "Strukturbild för regional planering",
        "Bygdemedel",
    ):
        assert text.index(title, others) > others, title
    assert booking_links(response.text) == {demo[TIP_CAFE]}

    english = await client.get(TIP, params={"lang": "en"})
    assert "Keep this in mind!" in text_of(english.text)
    assert "How have others done it?" in text_of(english.text)


async def test_an_example_shows_its_fact_box_and_whom_to_call(
    client: httpx.AsyncClient, demo: dict[str, int]
) -> None:
    response = await client.get("/guide/sormland-strukturbild")
    assert response.status_code == 200
    html, text = response.text, text_of(response.text)
    assert "Region Sörmland, Södermanlands län" in text  # not "(Region)" again
    assert "På 30 sekunder" in text
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]
    assert re.search(r"<dt>Invånare</dt><dd>300\s000</dd>", unescape(facts))
    assert "<dt>Projektperiod</dt><dd>2020–2022</dd>" in unescape(facts)
    assert "<dt>Finansiering</dt>" in facts
    for heading in ("Så gjorde de", "Resultat", "Lärdomar", "Ring eller mejla"):
        assert f">{heading}</h2>" in unescape(html), heading
    assert "Maja Lindgren" in text
    assert "Regional planerare" in text
    assert 'href="tel:016-1234567"' in html
    assert 'href="mailto:regional.planering@example.se"' in html
    assert "Publicerad 10 februari 2025 · Uppdaterad 1 september 2026" in text
    # The Markdown body is paragraphs, not one run of text.
    assert html.count("<p>Region Sörmland tog fram") == 1
    assert "Utmaningar: Samhällsplanering , Samverkan" in text
    assert 'href="/guide/challenges/samverkan"' in html

    english = text_of((await client.get("/guide/sormland-strukturbild?lang=en")).text)
    assert "Call or email" in english
    assert "300,000" in english
    assert "Published 10 February 2025" in english


async def test_a_challenge_lists_its_methods_examples_and_sessions(
    client: httpx.AsyncClient, services: Services, demo: dict[str, int]
) -> None:
    response = await client.get("/guide/challenges/samhallsplanering")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "<h1>Samhällsplanering</h1>" in response.text
    assert "2. Hitta gemensamma mål och resurser" in text
    assert "Platsutveckling i sex steg" in text
    assert "Strukturbild för regional planering" in text
    # Sessions through its examples and methods: the workshop (the process) among them.
    assert demo[WORKSHOP] in booking_links(response.text)
    async with services.transaction() as session:
        await cancel_event(session, demo[WORKSHOP])
    after = await client.get("/guide/challenges/samhallsplanering")
    assert demo[WORKSHOP] not in booking_links(after.text)


async def test_the_browse_page_has_challenges_with_counts_methods_and_examples(
    client: httpx.AsyncClient, demo: dict[str, int]
) -> None:
    response = await client.get("/guide")
    text = text_of(response.text)
    assert len(re.findall(r'href="/guide/challenges/[a-z-]+"', response.text)) == 9
    assert "Samhällsplanering 2 tips och metoder, 3 exempel" in text
    assert "Kompetensförsörjning 0 tips och metoder, 1 exempel" in text
    assert "1. Börja i behoven" in text
    assert "2. Hitta gemensamma mål och resurser" in text
    assert "Platsutveckling i sex steg" in text
    assert "Process i 6 steg" in text
    assert "10 exempel" in text

    filtered = text_of((await client.get("/guide", params={"challenge": "forenkling"})).text)
    assert "1. Börja i behoven" in filtered
    assert "3. Gör det enkelt att säga ja" in filtered
    assert "2. Hitta gemensamma" not in filtered
    assert "Process i 6 steg" not in filtered


@pytest.mark.parametrize(
    ("path", "swedish", "english"),
    [
        ("/guide/tips/finns-inte", "Tipset finns inte.", "The tip does not exist."),
        ("/guide/processes/finns-inte", "Processen finns inte.", "The process does not exist."),
        ("/guide/challenges/finns-inte", "Utmaningen finns inte.", "The challenge does not exist."),
    ],
)
async def test_an_unknown_slug_is_a_404_in_the_visitors_language(
    client: httpx.AsyncClient, path: str, swedish: str, english: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert swedish in unescape(response.text)
    in_english = await client.get(path, params={"lang": "en"})
    assert in_english.status_code == 404
    assert english in unescape(in_english.text)
