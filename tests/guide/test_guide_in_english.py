"""The guide's pages in English (issue 12): every date is written by the site's one rule
(foundation.i18n, day before month: "3 November 2025", never the US "November 3, 2025"), and
the guide and its search say that the guide's texts, and so the words to search with, are
Swedish."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import httpx
import pytest

from foundation.i18n import format_day
from foundation.services import Services
from lunchkafe.demo import load_demo


def said(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.mark.parametrize(
    ("language", "written"),
    [("sv", "3 november 2025"), ("en", "3 November 2025")],
)
def test_a_calendar_day_is_written_day_before_month(language: str, written: str) -> None:
    assert format_day(date(2025, 11, 3), language) == written


async def test_the_guides_english_pages_write_dates_day_before_month(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    us = re.compile(
        r"(January|February|March|April|May|June|July|August|September|October"
        r"|November|December) \d{1,2}, \d{4}"
    )
    for path in (
        "/guide/processes/platsutveckling-i-sex-steg",
        "/guide/sormland-strukturbild",
        "/guide/tips/hitta-gemensamma-mal-och-resurser",
    ):
        english = said((await client.get(f"{path}?lang=en")).text)
        assert not us.search(english), (path, us.search(english))
    process = said((await client.get("/guide/processes/platsutveckling-i-sex-steg?lang=en")).text)
    assert "3 November 2025" in process
    assert "12 May 2026" in process


async def test_english_guide_and_search_pages_say_to_search_in_swedish(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    for path, field in (("/guide?", "guide-q"), ("/guide?q=simplification&", "search-q")):
        english = (await client.get(f"{path}lang=en")).text
        note = re.search(r'<p class="hint" id="([a-z-]+)">(.*?)</p>', english, re.S)
        assert note is not None, path
        assert re.search(rf'id="{field}"[^>]*aria-describedby="{note.group(1)}"', english)
        assert note.group(2).startswith(
            "The guide is written in Swedish. Search with Swedish words, for example:"
        )
        assert 'href="/guide?q=f%C3%B6renkling" lang="sv">förenkling</a>' in note.group(2)
        swedish = (await client.get(f"{path}lang=sv")).text
        assert f'id="{note.group(1)}"' not in swedish
        assert "Guiden är skriven på svenska" not in swedish
