"""The guide's pages in the demo, as a new visitor reads them: tips and processes are "Tips
och metoder" everywhere; an organisation's type is not repeated after a name that says it; a
challenge with nothing in it says so and points to sharing and to the other challenges."""

from __future__ import annotations

import re

import httpx

from foundation.services import Services
from lunchkafe.demo import load_demo


async def test_tips_and_processes_are_named_alike(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    process = (await client.get("/guide/processes/platsutveckling-i-sex-steg?lang=sv")).text
    assert "› Tips och metoder</p>" in process
    assert "Processer" not in process
    tip = (await client.get("/guide/tips/borja-i-behoven?lang=sv")).text
    assert "› Tips och metoder</p>" in tip
    assert "evenemang tar upp" not in tip
    index = (await client.get("/guide?lang=sv")).text
    assert " tips och metoder," in index or " tips eller metod," in index
    assert "metoder," not in index.replace("tips och metoder,", "")


async def test_the_organisation_type_is_not_repeated(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    page = (await client.get("/guide/sormland-strukturbild?lang=sv")).text
    assert "Region Sörmland, Södermanlands län" in page
    assert "(Region)" not in page


async def test_an_empty_challenge_invites_sharing_and_shows_the_others(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        from guide.models import Challenge

        session.add(Challenge(slug="tom", name="Tom utmaning", position=99))
    page = (await client.get("/guide/challenges/tom?lang=sv")).text
    assert "Inget i guiden ännu" in page
    assert 'href="/guide/share"' in page
    assert 'href="/guide/challenges/samverkan"' in page
    assert 'href="/guide/challenges/tom"' not in page
    full = (await client.get("/guide/challenges/samverkan?lang=sv")).text
    assert "Inget i guiden ännu" not in full


async def test_the_demo_has_no_empty_challenge(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    index = (await client.get("/guide?lang=sv")).text
    slugs = set(re.findall(r'href="/guide/challenges/([a-z-]+)"', index))
    assert len(slugs) == 9
    for slug in slugs:
        page = (await client.get(f"/guide/challenges/{slug}?lang=sv")).text
        assert "Inget i guiden ännu" not in page, slug
