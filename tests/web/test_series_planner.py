"""The series planner through the app: "Visa datumen" leads the eye to the dates (the form
posts to #dates, a focusable section whose heading says how many), and an empty "Adress"
is made from the title by foundation.slugs' one rule; only a typed bad one is refused.
On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from sqlalchemy import select

from events.models import Series
from foundation.services import Services
from tests.factories import csrf_in
from tests.signing_in import add, sign_in, text_of

NEW = "/organiser/series/new"


def form(**changed: str) -> dict[str, str]:
    # A Wednesday four weeks on, far from any holiday or clock change.
    first = date.today() + timedelta(days=28)
    first += timedelta(days=(2 - first.weekday()) % 7)
    values = {
        "title": "Lunchkaféer på Åland öst",
        "slug": "",
        "capacity": "20",
        "first_day": first.isoformat(),
        "starts": "12:00",
        "ends": "13:00",
        "every_weeks": "1",
        "count": "4",
        "reminder_offsets": "",
    }
    return values | changed


async def planner(services: Services, client: httpx.AsyncClient) -> str:
    await add(services, "olle@myndigheten.example.se")
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303
    page = await client.get(NEW)
    assert page.status_code == 200
    return csrf_in(page.text)


async def test_showing_the_dates_leads_to_them(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await planner(services, client)
    page = await client.get(NEW)
    assert f'action="{NEW}#dates"' in page.text
    shown = await client.post(NEW, data={"csrf_token": token, "step": "preview", **form()})
    assert shown.status_code == 200, text_of(shown)
    section = re.search(r"<section([^>]*)>\s*<h2[^>]*>(.*?)</h2>", shown.text, re.S)
    assert section, shown.text
    assert 'id="dates"' in section[1]
    assert 'tabindex="-1"' in section[1]
    assert "4 datum – kontrollera och skapa" in section[2]


async def test_an_empty_address_is_made_from_the_title(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await planner(services, client)
    shown = await client.post(NEW, data={"csrf_token": token, "step": "preview", **form()})
    assert "Använd gemena bokstäver" not in text_of(shown)
    dates = re.findall(r'name="dates" type="checkbox" value="([^"]+)"', shown.text)
    assert len(dates) == 4
    made = await client.post(
        NEW, data={"csrf_token": token, "step": "create", **form(), "dates": dates}
    )
    assert made.status_code == 303, text_of(made)
    async with services.transaction() as session:
        slugs = list(await session.scalars(select(Series.slug)))
    assert slugs == ["lunchkafeer-pa-aland-ost"]


async def test_a_typed_bad_address_is_still_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await planner(services, client)
    shown = await client.post(
        NEW, data={"csrf_token": token, "step": "preview", **form(slug="Åland Öst")}
    )
    assert shown.status_code == 422
    assert "Använd gemena bokstäver" in text_of(shown)
