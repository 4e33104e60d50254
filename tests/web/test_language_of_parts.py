"""WCAG 3.1.2 Language of parts: on a page in English, what organisers wrote in Swedish
(an event's title and description, a series', the guide's examples, tips, processes and
challenges) carries lang="sv", so a screen reader speaks it as Swedish; a Swedish page needs
no such mark (foundation.rendering.content_lang)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from foundation.services import Services
from lunchkafe.demo import load_demo
from registrations.feeds import feed_for
from registrations.personal_data import link_token
from tests.conftest import SECRET
from tests.factories import address, book, make_event

VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}


class _SwedishParts(HTMLParser):
    """The text inside each element of <main> marked lang="sv", one string per element."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # inside <main>
        self.open: list[tuple[int, list[str]]] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        if tag == "main" or self.depth:
            self.depth += 1
        if self.depth and ("lang", "sv") in attrs:
            self.open.append((self.depth, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or not self.depth:
            return
        if self.open and self.open[-1][0] == self.depth:
            _, words = self.open.pop()
            self.parts.append(re.sub(r"\s+", " ", "".join(words)).strip())
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        for _, words in self.open:
            words.append(data)


def swedish_parts(html: str) -> list[str]:
    parser = _SwedishParts()
    parser.feed(html)
    return parser.parts


async def test_an_english_event_page_marks_its_swedish_title_and_description(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(
        services,
        title="Lunchkafé om förenkling",
        summary="Vi pratar om regelförenkling.",
        description="Kommunerna berättar hur de **förenklar**.",
    )
    english = swedish_parts((await client.get(f"/events/{event.id}?lang=en")).text)
    assert "Lunchkafé om förenkling" in english
    assert "Vi pratar om regelförenkling." in english
    assert "Kommunerna berättar hur de förenklar." in english
    assert swedish_parts((await client.get(f"/events/{event.id}?lang=sv")).text) == []
    # The calendar lists it with its title and summary marked too.
    listed = swedish_parts((await client.get("/?lang=en")).text)
    assert "Lunchkafé om förenkling" in listed
    assert "Vi pratar om regelförenkling." in listed


async def test_an_english_guide_example_marks_its_swedish_content(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    page = (await client.get("/guide/sormland-strukturbild?lang=en")).text
    english = swedish_parts(page)
    assert any(part.startswith("Strukturbild") for part in english), english
    assert any("Region Sörmland tog fram" in part for part in english), english
    assert '<h1 lang="sv">' in page
    swedish = (await client.get("/guide/sormland-strukturbild?lang=sv")).text
    assert swedish_parts(swedish) == []


async def test_a_persons_own_data_in_english_marks_the_event_titles(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, title="Lunchkafé om förenkling")
    await book(services, event.id, 1)
    async with services.transaction() as session:
        token = link_token(await feed_for(session, address(1), SECRET), SECRET)
    for path in (f"/my-data/{token}", f"/my-data/{token}/erase"):
        english = swedish_parts((await client.get(f"{path}?lang=en")).text)
        assert "Lunchkafé om förenkling" in english, path
