"""The change flow's small rules (issue 9's open points): the form takes the title, an end
at or before the start is refused on the end field, and the command line's preview is
worded by the same function as the workspace's, through the catalogue."""

from __future__ import annotations

import io
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from html import unescape
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from events.models import Event
from events.schedule import EventChanges
from foundation.services import Services
from lunchkafe.cli import build_parser, run_command
from mail.models import MessageKind
from organisers.change_wording import outcome
from organisers.models import AuditEntry
from registrations.organising import preview_update
from tests.factories import book, csrf_in, make_event, outbox
from tests.signing_in import signed_in_client, text_of

TZ = ZoneInfo("Europe/Stockholm")
INPUT = re.compile(r'<input[^>]*\bname="(\w+)"[^>]*\bvalue="([^"]*)"')


async def form_values(client: httpx.AsyncClient, event_id: int) -> dict[str, str]:
    page = await client.get(f"/organiser/events/{event_id}/change")
    assert page.status_code == 200
    return {**fields_of(page.text), "csrf_token": csrf_in(page.text)}


def fields_of(page: str) -> dict[str, str]:
    """Every input's name and value on the page, as a browser would send them."""
    return {name: unescape(value) for name, value in INPUT.findall(page)}


async def event_now(services: Services, event_id: int) -> Event:
    async with services.transaction() as session:
        found = await session.get(Event, event_id)
        assert found is not None
        return found


async def test_the_change_form_takes_the_title_and_tells_the_confirmed_and_the_line(
    services: Services,
) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)  # in line
    path = f"/organiser/events/{event.id}/change"
    async with signed_in_client(services) as client:
        values = await form_values(client, event.id)
        assert values["title"] == event.title
        preview = await client.post(path, data={**values, "title": "Lunchkafé om tillväxt"})
        assert preview.status_code == 200
        said = text_of(preview)
        assert "Lunchkafé om tillväxt" in said
        assert "1 bekräftad får en uppdaterad kalenderinbjudan." in said
        assert "1 i kön får veta om ändringen." in said
        confirmed = await client.post(path, data={**fields_of(preview.text), "confirm": "yes"})
        assert confirmed.status_code == 303
    changed = await event_now(services, event.id)
    assert changed.title == "Lunchkafé om tillväxt"
    assert changed.sequence == 1
    rows = [r for r in await outbox(services) if r.kind == MessageKind.EVENT_CHANGED]
    assert len(rows) == 2
    async with services.transaction() as session:
        (entry,) = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "event.changed"))
        ).all()
    assert entry.detail["fields"] == "title"


async def test_an_empty_title_is_refused_next_to_the_title(services: Services) -> None:
    event = await make_event(services)
    async with signed_in_client(services) as client:
        values = await form_values(client, event.id)
        refused = await client.post(
            f"/organiser/events/{event.id}/change", data={**values, "title": "  "}
        )
    assert refused.status_code == 422
    assert 'id="error-title"' in refused.text
    assert (await event_now(services, event.id)).title == event.title


async def test_an_end_before_the_start_is_refused_on_the_end_field_as_typed(
    services: Services,
) -> None:
    event = await make_event(services)
    async with signed_in_client(services) as client:
        values = await form_values(client, event.id)
        for ends in ("11:00", values["starts"]):  # before the start, and at it
            refused = await client.post(
                f"/organiser/events/{event.id}/change",
                data={**values, "starts": values["starts"], "ends": ends},
            )
            assert refused.status_code == 422, ends
            assert 'id="error-ends"' in refused.text
            assert "Sluttiden måste vara efter starttiden." in text_of(refused)
            assert f'value="{ends}"' in refused.text  # what was typed, kept
            assert "nästa dag" not in text_of(refused)
    unchanged = await event_now(services, event.id)
    assert (unchanged.starts_at, unchanged.ends_at) == (event.starts_at, event.ends_at)


async def test_the_command_line_preview_is_the_workspaces_wording(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    changes = EventChanges(title="Nytt namn", capacity=2)
    async with services.transaction() as session:
        preview = await preview_update(session, event.id, changes)
    swedish = outcome(preview, language="sv")
    english = outcome(preview, language="en")
    assert "1 bekräftad får en uppdaterad kalenderinbjudan." in swedish
    assert "1 confirmed attendee gets an updated calendar invitation." in english
    assert not set(swedish) & set(english)

    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO("")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            argv = ["events", "update", str(event.id), "--title", "Nytt namn"]
            code = await run_command(
                services, build_parser().parse_args([*argv, "--capacity", "2", "--dry-run"])
            )
    finally:
        sys.stdin = saved
    assert code == 0
    printed = out.getvalue()
    for sentence in swedish:
        assert sentence in printed
    assert "Titel: Lunchkafé om förenkling → Nytt namn" in printed
    # Singular where the catalogue says so: the old copy printed "1 bekräftade".
    assert "1 bekräftade" not in printed


async def test_a_moved_time_still_previews_with_an_end_after_the_start(
    services: Services,
) -> None:
    """The shared rule refuses only ends at or before the start: a plain move is a move."""
    event = await make_event(services)
    async with signed_in_client(services) as client:
        values = await form_values(client, event.id)
        # A fixed time of day: 'two hours later' passed midnight when the suite ran after 22.00.
        starts, ends = ("10:00", "10:30") if values["starts"] != "10:00" else ("13:00", "13:30")
        preview = await client.post(
            f"/organiser/events/{event.id}/change",
            data={**values, "starts": starts, "ends": ends},
        )
    assert preview.status_code == 200
    assert "Så här blir ändringen" in text_of(preview)
