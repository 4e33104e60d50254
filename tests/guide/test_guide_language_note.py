"""English pages of the guide say that the guide is written in Swedish (its texts are), and the
English share form says which language to write in."""

from __future__ import annotations

import httpx

from foundation.services import Services
from lunchkafe.demo import load_demo

NOTE = "The guide is written in Swedish."
PAGES = (
    "/guide/tips/borja-i-behoven",
    "/guide/processes/platsutveckling-i-sex-steg",
    "/guide/sormland-strukturbild",
    "/guide/challenges/samverkan",
)


async def test_english_guide_pages_say_the_guide_is_in_swedish(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    for path in PAGES:
        assert NOTE in (await client.get(f"{path}?lang=en")).text, path
        assert "skriven på svenska" not in (await client.get(f"{path}?lang=sv")).text, path


async def test_the_english_share_form_says_which_language_to_write_in(
    client: httpx.AsyncClient,
) -> None:
    english = (await client.get("/guide/share?lang=en")).text
    assert "Please write in Swedish if you can" in english
    assert "English is fine too" in english
    assert "Skriv gärna på svenska" not in (await client.get("/guide/share?lang=sv")).text
