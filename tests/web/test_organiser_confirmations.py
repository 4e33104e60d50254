"""A workspace page about one date says which date: every date of a series has the same
title, so each confirmation names the day and time next to the title and on its button;
after a change or a cancellation the event's page says what happened; breadcrumbs lead
back through the series and the date; a step that will be refused says why instead of
offering its button. Through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape

import httpx

from events.models import Event
from foundation.i18n import format_date_long, format_datetime
from foundation.services import Services
from tests.factories import add_confirmed, csrf_in, make_event, make_series
from tests.signing_in import add, sign_in, text_of

TZ = "Europe/Stockholm"
INPUT = re.compile(r'<input[^>]*\bname="(\w+)"[^>]*\bvalue="([^"]*)"')
BUTTON = re.compile(r"<button[^>]*>(.*?)</button>", re.S)
TRAIL = re.compile(r'<nav[^>]*class="breadcrumbs"[^>]*>(.*?)</nav>', re.S)


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "olle@myndigheten.example.se")
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303


def plain(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))).strip()


def title_of(page: httpx.Response) -> str:
    found = re.search(r"<title>(.*?)</title>", page.text, re.S)
    assert found
    return plain(found[1])


def heading_and_first_line(page: httpx.Response) -> str:
    """The page's h1 and the paragraph right after it."""
    found = re.search(r"<h1[^>]*>(.*?)</h1>\s*<p[^>]*>(.*?)</p>", page.text, re.S)
    assert found, page.text
    return plain(found[1] + " " + found[2])


def buttons(page: httpx.Response) -> list[str]:
    """Each button's accessible name (its text, visually hidden parts included)."""
    return [plain(text) for text in BUTTON.findall(page.text)]


def fields_of(page: httpx.Response) -> dict[str, str]:
    return {name: unescape(value) for name, value in INPUT.findall(page.text)}


def day_of(event: Event) -> str:
    return format_date_long(event.starts_at, TZ, "sv")


def named(page: httpx.Response, event: Event) -> None:
    """`page` names the event's date and time by its title, in its heading or first line,
    and in the browser tab's title."""
    said = heading_and_first_line(page)
    assert event.title in said, said
    assert day_of(event) in said, said
    assert format_datetime(event.starts_at, TZ, "sv").split(" kl. ")[1] in said, said
    assert day_of(event) in title_of(page), title_of(page)


async def test_each_confirmation_names_the_date_and_its_button_carries_it(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    _, event, _ = await make_series(services)
    await add_confirmed(services, event.id, range(2))
    day = day_of(event)

    cancel = await client.get(f"/organiser/events/{event.id}/cancel")
    named(cancel, event)
    preview = await client.post(
        f"/organiser/events/{event.id}/cancel",
        data={"csrf_token": csrf_in(cancel.text), "message": ""},
    )
    assert preview.status_code == 200
    named(preview, event)
    assert any(name.startswith(f"Ställ in {day}") for name in buttons(preview)), buttons(preview)

    change = await client.get(f"/organiser/events/{event.id}/change")
    named(change, event)
    changed = await client.post(
        f"/organiser/events/{event.id}/change", data={**fields_of(change), "capacity": "30"}
    )
    assert changed.status_code == 200
    named(changed, event)
    assert any(day in name and "Bekräfta" in name for name in buttons(changed)), buttons(changed)

    reminder = await client.get(f"/organiser/events/{event.id}/reminder")
    named(reminder, event)
    assert any(day in name for name in buttons(reminder) if "Skicka" in name)

    messages = await client.get(f"/organiser/events/{event.id}/messages")
    message = await client.post(
        f"/organiser/events/{event.id}/messages/preview",
        data={
            "csrf_token": csrf_in(messages.text),
            "audience": "confirmed",
            "subject": "Ny lokal",
            "body": "Vi ses i rum 2.",
        },
    )
    assert message.status_code == 200
    named(message, event)
    assert any(day in name for name in buttons(message) if name.startswith("Skicka"))


async def test_deleting_a_draft_names_its_date(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    draft = await make_event(services, publish=False)
    page = await client.get(f"/organiser/events/{draft.id}/delete")
    named(page, draft)
    assert any(day_of(draft) in name for name in buttons(page) if "radera" in name)


async def test_a_confirmed_change_says_what_happened_once_with_a_link_to_the_outbox(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    event = await make_event(services)
    await add_confirmed(services, event.id, range(3))
    path = f"/organiser/events/{event.id}/change"
    preview = await client.post(path, data={**fields_of(await client.get(path)), "venue": "Rum 2"})
    done = await client.post(path, data={**fields_of(preview), "confirm": "yes"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/organiser/events/{event.id}"
    page = await client.get(done.headers["location"])
    said = text_of(page)
    assert "Ändringen är sparad. 3 bekräftade får en uppdaterad kalenderinbjudan." in said
    assert f'href="/organiser/events/{event.id}/outbox"' in page.text.split("notice--success")[1]
    assert "Ändringen är sparad." not in text_of(await client.get(done.headers["location"]))


async def test_a_confirmed_cancellation_says_who_was_told(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    event = await make_event(services)
    await add_confirmed(services, event.id, range(2))
    path = f"/organiser/events/{event.id}/cancel"
    page = await client.get(path)
    preview = await client.post(path, data={"csrf_token": csrf_in(page.text), "message": ""})
    done = await client.post(path, data={**fields_of(preview), "confirm": "yes"})
    assert done.status_code == 303
    said = text_of(await client.get(done.headers["location"]))
    assert "Evenemanget är inställt. 2 bekräftade får en avbokning" in said


async def test_breadcrumbs_lead_through_the_series_and_the_date(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    _, event, _ = await make_series(services)
    for here in ("change", "cancel", "messages", "reminder", "outbox", "attendees", "check-in"):
        page = await client.get(f"/organiser/events/{event.id}/{here}")
        assert page.status_code == 200, here
        (trail,) = TRAIL.findall(page.text)
        links = re.findall(r'href="([^"]+)"', trail)
        assert links == [
            "/organiser/",
            f"/organiser/series/{event.series_id}",
            f"/organiser/events/{event.id}",
        ], (here, links)
        assert day_of(event) in plain(trail), here
        assert 'aria-current="page"' in trail, here
    single = await make_event(services)
    (trail,) = TRAIL.findall((await client.get(f"/organiser/events/{single.id}/outbox")).text)
    links = re.findall(r'href="([^"]+)"', trail)
    assert links == ["/organiser/", f"/organiser/events/{single.id}"]


async def test_making_a_booked_event_a_draft_again_says_why_not_instead_of_a_button(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    booked, empty = await make_event(services), await make_event(services)
    await add_confirmed(services, booked.id, range(1))
    page = await client.get(f"/organiser/events/{booked.id}")
    assert not any("Gör till utkast igen" in name for name in buttons(page))
    assert "Gör till utkast igen går inte: 1 har anmält sig." in text_of(page)
    page = await client.get(f"/organiser/events/{empty.id}")
    assert any(name.startswith("Gör till utkast igen") for name in buttons(page))
