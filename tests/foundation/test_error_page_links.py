"""The error page leads somewhere useful: a signed-in organiser back to the workspace's
overview, anyone else to the calendar."""

from __future__ import annotations

import httpx

from foundation.services import Services
from tests.signing_in import add, sign_in


async def test_a_forbidden_page_leads_an_organiser_back_to_the_overview(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "olle@myndigheten.example.se", role="organiser")
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303
    refused = await client.get("/organiser/accounts")
    assert refused.status_code == 403
    main = refused.text.split("<main", 1)[1]
    assert '<a href="/organiser/">Till översikten</a>' in main
    missing = await client.get("/organiser/events/999999")
    assert '<a href="/organiser/">Till översikten</a>' in missing.text.split("<main", 1)[1]


async def test_anyone_else_is_led_to_the_calendar(client: httpx.AsyncClient) -> None:
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404
    main = missing.text.split("<main", 1)[1]
    assert '<a href="/">Till kalendern</a>' in main
    assert "Till översikten" not in main
