"""The development guide as a visitor sees it, on the demo data."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from lunchkafe.demo import load_demo
from registrations.organising import cancel_event

ALL_EXAMPLES = {
    "sormland-strukturbild",
    "ystad-regional-karna",
    "vgr-lokala-processledare",
    "jamtland-fler-roster",
    "varberg-lokal-utvecklingspeng",
    "kramfors-bygdemedel",
    "en-vag-in-for-foretag",
    "lansstyrelsen-kompetenslyft",
    "servicepunkter-i-byarna",
    "energiradgivning-for-foretag",
}


def example_links(html: str) -> set[str]:
    # /guide/share is 'Dela med dig', no example.
    found = re.findall(r'href="(?:http://testserver)?/guide/([a-z0-9-]+)"', html)
    return set(found) - {"share"}


def event_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="(?:http://testserver)?/events/(\d+)"', html)}


async def events_by_title(services: Services) -> dict[str, Event]:
    async with services.transaction() as session:
        return {e.title: e for e in (await session.scalars(select(Event))).all()}


async def test_guide_lists_every_example_and_filters_by_challenge(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)

    response = await client.get("/guide")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert example_links(response.text) == ALL_EXAMPLES
    assert "10 exempel" in response.text
    text = unescape(response.text)
    assert "Region Sörmland" in text
    assert "Lokal utveckling" in text  # the challenge filter offers each challenge

    filtered = await client.get("/guide", params={"challenge": "lokal-utveckling"})
    assert filtered.status_code == 200
    assert example_links(filtered.text) == {
        "vgr-lokala-processledare",
        "varberg-lokal-utvecklingspeng",
        "kramfors-bygdemedel",
    }
    assert "3 exempel" in filtered.text
    assert re.search(r'<option value="lokal-utveckling"\s+selected', filtered.text)

    planning = await client.get("/guide?challenge=samhallsplanering")
    assert example_links(planning.text) == {
        "sormland-strukturbild",
        "ystad-regional-karna",
        "jamtland-fler-roster",
    }

    # An unknown challenge shows everything rather than an empty or broken page.
    unknown = await client.get("/guide?challenge=finns-inte")
    assert unknown.status_code == 200
    assert example_links(unknown.text) == ALL_EXAMPLES


async def test_example_page_shows_the_example_and_its_published_events(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    events = await events_by_title(services)
    cafe = events["Levande landsbygder: lokala processledare"]
    workshop = next(e for t, e in events.items() if t.startswith("Platsutveckling i sex steg"))

    response = await client.get("/guide/vgr-lokala-processledare")
    assert response.status_code == 200
    text = unescape(response.text)
    assert "Coachning av lokala processledare" in text
    assert "Västra Götalandsregionen" in text
    assert "landsbygd@example.se" in text  # every example has a contact person
    assert "Lokal utveckling" in text
    assert "Delaktighet" in text
    # Both events that discuss the example, and no others.
    assert event_links(response.text) == {cafe.id, workshop.id}
    assert cafe.title in text
    # The join link of an online café never reaches a public page.
    assert "meet.example.se" not in text

    # A cancelled event no longer points readers to it.
    async with services.transaction() as session:
        await cancel_event(session, cafe.id)
    after = await client.get("/guide/vgr-lokala-processledare")
    assert event_links(after.text) == {workshop.id}

    # When no published event discusses an example any more, the page says so.
    planning_cafe = events["Levande landsbygder: planering som håller ihop"]
    assert event_links((await client.get("/guide/ystad-regional-karna")).text) == {planning_cafe.id}
    async with services.transaction() as session:
        await cancel_event(session, planning_cafe.id)
    alone = await client.get("/guide/ystad-regional-karna")
    assert alone.status_code == 200
    assert event_links(alone.text) == set()
    assert "Inga kommande lunchkaféer eller workshoppar" in unescape(alone.text)


async def test_unknown_example_is_404(services: Services, client: httpx.AsyncClient) -> None:
    await load_demo(services, only_if_empty=False)
    response = await client.get("/guide/finns-inte")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Exemplet finns inte." in unescape(response.text)
