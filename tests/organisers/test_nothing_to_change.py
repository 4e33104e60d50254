"""A change that changes nothing is refused, one rule, however it is made: the workspace's
form and its confirmation, the organiser API's PATCH (422 problem) and `lunchkafe events
update` all say "Inget att ändra", and nothing is stored, sent or logged as a change."""

from __future__ import annotations

import io
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from events.models import Event
from events.schedule import EventChanges
from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.cli import build_parser, run_command
from organisers import tokens
from organisers.models import AuditEntry
from registrations.errors import NothingToChange
from registrations.organising import preview_update, update_event
from tests.factories import book, csrf_in, make_event
from tests.signing_in import add, sign_in, text_of

API = "/api/v1/organiser"
INPUT = re.compile(r'<input[^>]*\bname="(\w+)"[^>]*\bvalue="([^"]*)"')
NOTHING = "Inget att ändra"


async def stored(services: Services) -> dict[str, list[Any]]:
    """Every row a change could write."""
    tables = ("events", "registrations", "outbox_messages", "audit_log")
    async with services.engine.connect() as conn:
        return {
            table: [tuple(r) for r in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()]
            for table in tables
        }


async def changes_logged(services: Services) -> list[AuditEntry]:
    async with services.transaction() as session:
        found = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.changed")
        )
        return list(found.all())


async def test_the_domain_refuses_a_change_that_changes_nothing(services: Services) -> None:
    event = await make_event(services, venue="Stadshuset")
    same = EventChanges(title=event.title, capacity=event.capacity, venue=" Stadshuset ")
    for changes in (EventChanges(), same):
        async with services.transaction() as session:
            with pytest.raises(NothingToChange) as refused:
                await update_event(session, event.id, changes, note="Hej")
        assert refused.value.status == 422
        assert str(refused.value).startswith(NOTHING)
        async with services.transaction() as session:
            with pytest.raises(NothingToChange):
                await preview_update(session, event.id, changes)
    async with services.transaction() as session:
        now = await session.get(Event, event.id)
        assert now is not None
        assert (now.sequence, now.updated_at) == (event.sequence, event.updated_at)


async def test_the_workspace_says_nothing_to_change_and_logs_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await book(services, event.id, 1)
    await add(services, "anna@myndigheten.example.se")
    await sign_in(client, "anna@myndigheten.example.se")
    path = f"/organiser/events/{event.id}/change"
    page = await client.get(path)
    values = {name: unescape(value) for name, value in INPUT.findall(page.text)}
    values["csrf_token"] = csrf_in(page.text)
    before = await stored(services)

    asked = await client.post(path, data={**values, "message": "Inget nytt, bara hej."})
    assert asked.status_code == 422
    assert NOTHING in text_of(asked)
    assert 'value="Inget nytt, bara hej."' in asked.text or "Inget nytt, bara hej." in asked.text

    # A confirmation of nothing (a stale tab, a hand-made request) is refused the same way.
    confirmed = await client.post(path, data={**values, "confirm": "yes", "seen": "x"})
    assert confirmed.status_code == 422
    assert NOTHING in text_of(confirmed)
    assert await stored(services) == before
    assert await changes_logged(services) == []

    english = await client.post(f"{path}?lang=en", data=values)
    assert english.status_code == 422
    assert "Nothing to change" in text_of(english)


async def test_the_api_answers_a_patch_of_unchanged_values_with_a_422_problem(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, "boss@myndigheten.example.se", role="admin")
    async with services.transaction() as session:
        made = await tokens.create_token(session, await session.merge(boss), "Test", utcnow())
    auth = {"authorization": f"Bearer {made.secret}"}
    event = await make_event(services, venue="Stadshuset")
    draft = await make_event(services, title="Utkast", publish=False)
    before = await stored(services)

    for body in (
        {"title": event.title, "capacity": event.capacity, "venue": "Stadshuset"},
        {},
        {"status": "published"},  # it is already
    ):
        refused = await client.patch(f"{API}/events/{event.id}", headers=auth, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["code"] == "nothing_to_change"
        assert NOTHING in problem["detail"]
    assert await stored(services) == before

    # Publishing a draft changes something, even with its fields as they were.
    published = await client.patch(
        f"{API}/events/{draft.id}", headers=auth, json={"title": "Utkast", "status": "published"}
    )
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert await changes_logged(services) == []


async def cli(services: Services, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = await run_command(services, build_parser().parse_args(argv))
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


async def test_the_command_line_refuses_nothing_to_change_even_with_yes(
    services: Services,
) -> None:
    event = await make_event(services, venue="Stadshuset")
    await book(services, event.id, 1)
    before = await stored(services)
    for extra in (["--message", "x"], ["--venue", "Stadshuset", "--capacity", "20"]):
        code, out, err = await cli(services, ["events", "update", str(event.id), *extra, "--yes"])
        assert code == 1, out
        assert NOTHING in err
        assert "updated" not in out
    code, _, err = await cli(services, ["events", "update", str(event.id), "--dry-run"])
    assert code == 1
    assert NOTHING in err
    assert await stored(services) == before
