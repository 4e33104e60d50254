"""Swedish search over the guide, the same on SQLite and PostgreSQL: stems (strukturbild finds
strukturbilden), å/ä/ö kept (far never finds får), compounds by prefix (landsbygd finds
landsbygdsutveckling), filters, sort, escaped snippets; any query text is safe."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.services import Services
from guide import finding
from guide.editing import (
    ChallengeInput,
    save_challenge,
    save_example,
)
from tests.guide_search import example, seed, slugs


async def test_swedish_words_find_what_they_should_and_nothing_else(services: Services) -> None:
    await seed(services)
    async with services.transaction() as session:
        assert slugs(await finding.find(session, "strukturbild")) == ["sormland", "inlandet"]
        assert slugs(await finding.find(session, "far")) == []
        assert slugs(await finding.find(session, "får")) == ["ystad"]
        assert slugs(await finding.find(session, "landsbygd")) == ["inlandet", "mal"]
        assert slugs(await finding.find(session, "strukturbild landsbygd")) == ["inlandet"]
        # Filters: region and organisation type keep examples only.
        assert slugs(await finding.find(session, "strukturbild", region="södermanlands län")) == [
            "sormland"
        ]
        assert slugs(await finding.find(session, "strukturbild", organisation_type="kommun")) == [
            "inlandet"
        ]
        by_date = await finding.find(session, "strukturbild", sort="date")
        assert slugs(by_date) == ["inlandet", "sormland"]
        (hit,) = await finding.find(session, "orterna")
    assert str(hit.snippet) == (
        "Strukturbilden visar hur <mark>&lt;orterna&gt;</mark> hänger ihop."
    )


async def test_the_index_follows_a_change_and_a_deletion(services: Services) -> None:
    await seed(services)
    async with services.transaction() as session:
        await save_example(session, example("ystad", "Lamm i Ystad", "Lammen betar längs kusten."))
    async with services.transaction() as session:
        assert slugs(await finding.find(session, "får")) == []
        assert slugs(await finding.find(session, "lammen")) == ["ystad"]
        found = await finding.find(session, "lammen")
        await session.delete(found[0].item)
    async with services.transaction() as session:
        assert slugs(await finding.find(session, "lammen")) == []


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=st.text(max_size=60))
async def test_any_query_text_is_answered_without_an_error(services: Services, query: str) -> None:
    async with services.transaction() as session:
        await finding.find(session, query)
        await finding.find(session, f'"{query}" OR NEAR( * -')


async def test_the_api_finds_examples_with_their_contact(
    services: Services, client: httpx.AsyncClient
) -> None:
    await seed(services)
    answer = await client.get("/api/v1/guide/examples", params={"q": "strukturbild"})
    assert answer.status_code == 200
    found = answer.json()["examples"]
    assert [e["url"] for e in found] == [
        "http://testserver/guide/sormland",
        "http://testserver/guide/inlandet",
    ]
    assert found[0]["region"] == "Södermanlands län"
    assert found[0]["contact"]["name"] == "Åsa Öberg"
    assert (await client.get("/api/v1/guide/examples", params={"q": "far"})).json() == {
        "examples": []
    }
    narrowed = await client.get(
        "/api/v1/guide/examples", params={"q": "strukturbild", "organisation_type": "kommun"}
    )
    assert [e["title"] for e in narrowed.json()["examples"]] == ["Landsbygdsutveckling i inlandet"]


async def test_the_guide_page_searches_and_suggests_the_challenges_when_nothing_is_found(
    services: Services, client: httpx.AsyncClient
) -> None:
    await seed(services)
    async with services.transaction() as session:
        await save_challenge(session, ChallengeInput(slug="forenkling", name="Förenkling"))
    page = await client.get("/guide", params={"q": "<>strukturbild"})
    assert page.status_code == 200
    assert "<mark>Strukturbilden</mark>" in page.text
    assert "&lt;&gt;strukturbild" in page.text  # the query said back, escaped
    nothing = await client.get("/guide", params={"q": "far"})
    assert 'href="/guide/challenges/forenkling"' in nothing.text
