"""The series page offers booking the whole series, or says for each date why it cannot."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx

from events.schedule import create_series
from foundation.services import Services
from foundation.timestamps import utcnow
from tests.factories import SOON, make_event


def visible_text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)))


async def test_a_series_not_yet_open_says_when_it_opens(
    services: Services, client: httpx.AsyncClient
) -> None:
    opens = utcnow() + timedelta(days=3)
    async with services.transaction() as session:
        await create_series(session, slug="snart", title="Snart öppet")
    for n in range(2):
        await make_event(
            services,
            series_slug="snart",
            starts_at=SOON + timedelta(days=7 + 7 * n),
            ends_at=SOON + timedelta(days=7 + 7 * n, hours=1),
            registration_opens_at=opens,
        )
    page = (await client.get("/series/snart")).text
    sv = visible_text(page)
    assert "Serien går inte att boka just nu" in sv
    assert sv.count("Anmälan har inte öppnat än. Den öppnar") == 2
    assert 'action="/series/snart/book"' not in page  # no form that would book nothing
    en = visible_text((await client.get("/series/snart?lang=en")).text)
    assert en.count("Registration has not opened yet. It opens") == 2


async def test_an_open_series_offers_its_form(
    services: Services, client: httpx.AsyncClient
) -> None:
    async with services.transaction() as session:
        await create_series(session, slug="oppen", title="Öppen serie")
    await make_event(services, series_slug="oppen")
    page = (await client.get("/series/oppen")).text
    assert 'action="/series/oppen/book"' in page
    assert "Serien går inte att boka just nu" not in page
