"""A published event says where it happens: a venue or a join link (events.rules.check_place).
Else attendees get an invite with no place."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from events.errors import InvalidEvent
from events.schedule import EventChanges, publish_event
from foundation.services import Services
from lunchkafe.app import create_app
from registrations.organising import update_event
from tests.conftest import Mail
from tests.factories import SOON, make_event
from tests.signing_in import API, add, bearer, token_for

PLACE = "Ange en plats eller en länk till mötet."


async def api(mail: Mail) -> tuple[httpx.AsyncClient, dict[str, str]]:
    anna = await add(mail.services, "anna@myndigheten.example.se")
    auth = bearer(await token_for(mail.services, anna))
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver"), auth


async def test_the_api_keeps_a_published_event_somewhere(services: Services, mail: Mail) -> None:
    published = await make_event(services)
    client, auth = await api(mail)
    async with client:
        # PATCH {"venue":"","join_url":""} on a published event answered 200.
        cleared = await client.patch(
            f"{API}/events/{published.id}", headers=auth, json={"venue": "", "join_url": ""}
        )
        assert cleared.status_code == 422, cleared.text
        assert PLACE in cleared.json()["fields"].values()
        # One of them may go while the other stays.
        moved = await client.patch(
            f"{API}/events/{published.id}", headers=auth, json={"venue": "Sal 1", "join_url": ""}
        )
        assert moved.status_code == 200, moved.text
        new = {
            "title": "Kafé",
            "starts_at": SOON.isoformat(),
            "ends_at": (SOON + timedelta(hours=1)).isoformat(),
            "capacity": 10,
            "status": "published",
        }
        # POST with status published and neither answered 201.
        created = await client.post(f"{API}/events", headers=auth, json=new)
        assert created.status_code == 422, created.text
        assert PLACE in created.json()["fields"].values()
        # A draft may wait for its place; publishing it may not.
        draft = await client.post(f"{API}/events", headers=auth, json={**new, "status": "draft"})
        assert draft.status_code == 201, draft.text
        publish = await client.patch(
            f"{API}/events/{draft.json()['id']}", headers=auth, json={"status": "published"}
        )
        assert publish.status_code == 422, publish.text
        with_link = await client.patch(
            f"{API}/events/{draft.json()['id']}",
            headers=auth,
            json={"status": "published", "join_url": "https://meet.example.se/rum"},
        )
        assert with_link.status_code == 200, with_link.text
        assert with_link.json()["status"] == "published"


async def test_publishing_a_draft_without_a_place_is_refused(services: Services) -> None:
    draft = await make_event(services, publish=False, join_url=None)
    with pytest.raises(InvalidEvent) as refused:
        async with services.transaction() as session:
            await publish_event(session, draft.id)
    assert PLACE in refused.value.fields.values()
    assert str(refused.value) == PLACE  # the workspace's publish button says it as it is
    # A draft itself may lose both.
    placed = await make_event(services, publish=False, venue="Sal 1")
    async with services.transaction() as session:
        await update_event(session, placed.id, EventChanges(venue="", join_url=""))
