"""Search snippets are plain text from the field that matched (guide.snippets): Markdown
rendered and stripped, list items ended as sentences, never the organisation, region,
contact or challenges shown beside them; a hit found only by its challenges says which."""

from __future__ import annotations

import httpx

from foundation.services import Services
from guide import finding, search
from guide.models import Challenge, GuideExample, GuideTip
from guide.search_words import stems
from guide.snippets import SCANNED, plain, shown
from lunchkafe.demo import load_demo


def terms(word: str) -> list[str]:
    return stems(word)


def test_markdown_is_rendered_and_list_items_end_as_sentences() -> None:
    text = (
        "Företagaren **får** \\*\\*en kontaktperson\\*\\*\n\n"
        "- Dialog med kommunen\n- En företagslots\n- Klart!"
    )
    assert plain(text) == (
        "Företagaren får **en kontaktperson**. Dialog med kommunen. En företagslots. Klart!"
    )


def test_the_snippet_comes_from_the_field_that_matched_escaped() -> None:
    example = GuideExample(
        title="Företagslots",
        organisation="Region Sörmland",
        region="Södermanlands län",
        summary="Kort om <b>arbetet</b>.",
        body="",
        activities=["Möten med **företagare**", "Lots <script>"],
        results=[],
        lessons=[],
        contact_name="Företags Lotsén",
        challenges=[],
    )
    found = shown(example, terms("företagare"))
    assert str(found.snippet) == "Möten med <mark>företagare.</mark> Lots &lt;script&gt;"
    assert "Sörmland" not in str(found.snippet)
    assert "Lotsén" not in str(found.snippet)
    assert found.challenges == []


def test_a_hit_found_only_by_its_challenge_names_it() -> None:
    tip = GuideTip(
        title="Börja i behoven",
        text="Fråga först.",
        questions=[],
        challenges=[Challenge(name="Förenkling", slug="forenkling")],
    )
    found = shown(tip, terms("förenkling"))
    assert found.challenges == ["Förenkling"]
    assert str(found.snippet) == ""


def test_a_hit_found_by_its_organisation_shows_the_start_of_its_text_unmarked() -> None:
    example = GuideExample(
        title="X",
        organisation="Sörmland",
        summary="Byarna **samarbetar**.",
        body="",
        activities=[],
        results=[],
        lessons=[],
        challenges=[],
    )
    assert str(shown(example, terms("sörmland")).snippet) == "Byarna samarbetar."


async def test_the_demo_guide_s_hits_read_as_plain_text(services: Services) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        far = {h.item.slug: str(h.snippet) for h in await finding.find(session, "får")}
        municipalities = await finding.find(session, "kommunerna")
        simpler = await finding.find(session, "förenkling")
    assert "**" not in far["en-vag-in-for-foretag"]
    assert "<mark>får</mark> en kontaktperson" in far["en-vag-in-for-foretag"]
    for hit in municipalities:
        assert isinstance(hit.item, GuideExample)
        snippet = str(hit.snippet)
        assert hit.item.contact_name not in snippet
        assert "<mark>" in snippet, hit.item.slug
    assert simpler
    for hit in simpler:
        assert hit.challenges == ("Förenkling",), hit.item.slug
        assert str(hit.snippet) == ""


async def test_search_results_name_a_tip_and_why_a_hit_was_found(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    page = (await client.get("/guide?q=förenkling&lang=sv")).text
    assert '<p class="organisation">Tips</p>' in page
    assert "Tips och metod<" not in page
    assert "Utmaning: <span>Förenkling</span>" in page


def test_a_snippet_costs_a_bounded_number_of_stems_however_long_the_text() -> None:
    """Only the first SCANNED words of each field are checked for a hit: an example of 5,000
    distinct words whose hit comes last shows the start of its first field, unmarked, after
    stemming at most SCANNED words of each of its five fields."""
    filler = " ".join(f"ordet{n}x" for n in range(5_000))
    example = GuideExample(
        title="Långt exempel",
        organisation="Exempelkommun",
        summary=filler,
        body=filler + " strukturbilden",
        activities=[],
        results=[],
        lessons=[],
        contact_name="Åsa Öberg",
        challenges=[],
    )
    search._token_stems.cache_clear()
    found = shown(example, terms("strukturbild"))
    assert "<mark>" not in str(found.snippet)
    assert str(found.snippet).startswith("ordet0x ordet1x")
    assert search._token_stems.cache_info().misses <= 5 * SCANNED
