"""An event is cancelled once: a second cancel (API or workspace) is refused, tells nobody
and logs nothing (events.errors.AlreadyCancelled)."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlalchemy import func, select

from foundation.services import Services
from lunchkafe.app import create_app
from organisers.models import AuditEntry
from tests.conftest import Mail
from tests.factories import book, csrf_in, make_event
from tests.signing_in import API, add, bearer, sign_in, text_of, token_for

ANNA = "anna@myndigheten.example.se"
INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def cancellations_logged(services: Services) -> int:
    async with services.transaction() as session:
        found = await session.scalar(
            select(func.count()).where(AuditEntry.action == "event.cancelled")
        )
        return found or 0


async def test_a_second_cancel_through_the_api_is_409_and_logs_nothing(
    services: Services, mail: Mail
) -> None:
    """A second cancel answered 200 and was logged again."""
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    event = await make_event(services)
    await book(services, event.id, 1)
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = await client.post(f"{API}/events/{event.id}/cancel", headers=auth, json={})
        assert first.status_code == 200
        again = await client.post(f"{API}/events/{event.id}/cancel", headers=auth, json={})
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["code"] == "already_cancelled"
    assert await cancellations_logged(services) == 1


async def confirm(client: httpx.AsyncClient, event_id: int) -> dict[str, str]:
    """The cancel preview's confirmation form, as a browser would send it."""
    page = await client.get(f"/organiser/events/{event_id}/cancel")
    preview = await client.post(
        f"/organiser/events/{event_id}/cancel",
        data={"csrf_token": csrf_in(page.text), "message": ""},
    )
    form = {name: unescape(value) for name, value in INPUT.findall(preview.text)}
    return {**form, "confirm": "yes"}


async def test_a_second_confirmation_in_the_workspace_says_so_and_logs_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, ANNA, role="admin")
    assert (await sign_in(client, ANNA)).status_code == 303
    event = await make_event(services)
    await book(services, event.id, 1)
    first = await client.post(
        f"/organiser/events/{event.id}/cancel", data=await confirm(client, event.id)
    )
    assert first.status_code == 303
    # Previewed and confirmed again afterwards (another tab, a colleague): the same as the
    # cancelled event now is, so only the rule can say no.
    again = await client.post(
        f"/organiser/events/{event.id}/cancel", data=await confirm(client, event.id)
    )
    assert again.status_code == 409
    assert "Evenemanget är redan inställt" in text_of(again)
    assert await cancellations_logged(services) == 1
