"""A guide search does bounded work however large the guide: it reads and gives a snippet to
the shown page's items only, ranks from the index without stemming any text again, and pages
its hits (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import snowballstemmer  # type: ignore[import-untyped]

import guide.search_words as search_words
from foundation.services import Services
from guide import finding, search
from guide.editing import save_example
from tests.guide_search import example


class _Counted:
    """snowballstemmer's Swedish stemmer, its calls counted."""

    def __init__(self, stemmer: Any) -> None:
        self.stemmer, self.calls = stemmer, 0

    def stemWord(self, word: str) -> str:
        self.calls += 1
        return str(self.stemmer.stemWord(word))


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of the texts search.documents reads ("read") while a test runs; the stemmer's
    calls are counted by _Counted in its place."""
    monkeypatch.setattr(search_words, "_STEMMER", _Counted(search_words._STEMMER))
    read = search.documents
    found = {"read": 0}

    def documents(connection: Any, kind: str, ids: Sequence[int]) -> list[search.Document]:
        found["read"] += len(ids)
        return read(connection, kind, ids)

    monkeypatch.setattr(search, "documents", documents)
    return found


async def _add(services: Services, first: int, last: int) -> None:
    """Examples `first`…`last`: the same summary, each a long body of words of its own."""
    async with services.transaction() as session:
        for n in range(first, last + 1):
            body = " ".join(f"ord{n}x{k}" for k in range(300)) + " kommunen"
            await save_example(
                session,
                example(f"ex-{n:03}", f"Exempel {n:03}", "Kommunen ordnar lunch.", body=body),
            )


async def _search(services: Services, query: str) -> tuple[finding.SearchPage, int]:
    """The first page of `query` and the stemmer's calls for it (the stems remembered
    forgotten first)."""
    search_words.stem.cache_clear()
    search._token_stems.cache_clear()
    counted = search_words._STEMMER
    assert isinstance(counted, _Counted)
    start = counted.calls
    async with services.transaction() as session:
        page = await finding.search_page(session, query)
    return page, counted.calls - start


async def test_a_search_reads_and_stems_the_shown_page_only(
    services: Services, work: dict[str, int]
) -> None:
    await _add(services, 1, 25)
    work["read"] = 0  # saving read them to index them
    small, stemmed_small = await _search(services, "kommun")
    read_small = work["read"]
    await _add(services, 26, 70)
    work["read"] = 0
    large, stemmed_large = await _search(services, "kommun")
    assert (small.total, large.total) == (25, 70)
    assert len(small.hits) == len(large.hits) == finding.PAGE_SIZE
    # The shown page's texts are read, no other; no text is stemmed again to rank the hits.
    assert read_small == work["read"] == finding.PAGE_SIZE
    assert stemmed_large == stemmed_small < 20
    # A phrase on SQLite reads its candidates' texts (their words' places); on PostgreSQL
    # the index decides it.
    work["read"] = 0
    phrase, _ = await _search(services, '"kommunen ordnar"')
    assert phrase.total == 70
    if services.settings.database_url.startswith("postgresql"):
        assert work["read"] == finding.PAGE_SIZE


async def test_the_search_page_shows_its_hits_a_page_at_a_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await _add(services, 1, 45)
    first = await client.get("/guide", params={"q": "kommun"})
    assert "45 träffar" in first.text
    assert first.text.count('class="event-card"') == finding.PAGE_SIZE
    assert "/guide/ex-001" in first.text
    assert "/guide/ex-021" not in first.text
    assert 'rel="next" href="/guide?q=kommun&amp;sida=2"' in first.text
    assert 'rel="prev"' not in first.text
    last = await client.get("/guide", params={"q": "kommun", "sida": "3"})
    assert last.text.count('class="event-card"') == 5
    assert "/guide/ex-045" in last.text
    assert "/guide/ex-040" not in last.text
    assert 'rel="prev" href="/guide?q=kommun&amp;sida=2"' in last.text
    assert 'rel="next"' not in last.text
    beyond = await client.get("/guide", params={"q": "kommun", "sida": "99"})
    assert "/guide/ex-045" in beyond.text  # the last page


async def test_the_api_reads_no_text_to_make_snippets_it_does_not_show(
    services: Services, client: httpx.AsyncClient, work: dict[str, int]
) -> None:
    await _add(services, 1, 30)
    work["read"] = 0
    answer = await client.get("/api/v1/guide/examples", params={"q": "kommun"})
    assert len(answer.json()["examples"]) == 30
    assert work["read"] == 0


def test_words_are_stemmed_right_from_several_threads_at_once() -> None:
    """A phrase's texts are checked off the event loop while the loop stems too: the one
    Snowball stemmer (which keeps its word in itself) is used by one thread at a time, so no
    thread gets another's stem (nor an IndexError) and no wrong stem is remembered."""
    expected = snowballstemmer.stemmer("swedish")
    endings = ("ningarna", "heten", "erna", "ande", "else", "lig", "arnas", "ens")
    groups = [[f"kommun{t}x{n}{e}" for n in range(400) for e in endings] for t in range(6)]
    search_words.stem.cache_clear()
    with ThreadPoolExecutor(len(groups)) as pool:
        found = list(pool.map(lambda group: [search_words.stem(w) for w in group], groups))
    assert found == [[expected.stemWord(w) for w in group] for group in groups]
    search_words.stem.cache_clear()
