"""Clock edges in the organiser's forms (issue 10 item 6): a local time the clocks skip
(02:30 on 2027-03-28 in Europe/Stockholm) or repeat (02:30 on 2027-10-31) is never placed
silently. The event, change, registration-window and one-more-date forms say so on the field,
keep what was typed, and for a repeated time offer its two readings (`<field>_offset`); the
series form flags such a date in its preview of dates and does not create it. Through the
app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
from sqlalchemy import func, select

from events.models import Event, Series
from events.schedule import create_series
from foundation.services import Services
from tests.factories import csrf_in, make_event
from tests.signing_in import add, sign_in, text_of

# The autumn fold: 02:30 is 00:30 UTC (summer time, +02:00) and 01:30 UTC (standard, +01:00).
FOLD_SUMMER = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
FOLD_WINTER = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
RADIO = re.compile(r'<input[^>]*type="radio"[^>]*>')


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "olle@myndigheten.example.se", role="organiser")
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303


async def post(
    client: httpx.AsyncClient, page: str, action: str, data: Mapping[str, str | list[str]]
) -> httpx.Response:
    shown = await client.get(page)
    assert shown.status_code == 200, page
    return await client.post(action, data={"csrf_token": csrf_in(shown.text), **data})


def offered(page: str, name: str) -> dict[str, bool]:
    """The radio buttons named `name`: value → checked."""
    found = {}
    for tag in RADIO.findall(page):
        if f'name="{name}"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            assert value is not None
            found[unescape(value.group(1))] = " checked" in tag
    return found


async def count_events(services: Services) -> int:
    async with services.transaction() as session:
        return int(await session.scalar(select(func.count(Event.id))) or 0)


async def stored(services: Services, event_id: int) -> Event:
    async with services.transaction() as session:
        found = await session.get(Event, event_id)
    assert found is not None
    return found


def draft_form(starts: str, ends: str, **more: str) -> dict[str, str]:
    return {
        "title": "Nattkafé",
        "kind": "cafe",
        "starts_at": starts,
        "ends_at": ends,
        "capacity": "20",
        **more,
    }


# --- the event form ---------------------------------------------------------------------------


async def test_the_event_form_asks_which_of_a_repeated_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    new = "/organiser/events/new"
    form = draft_form("2027-10-31T02:30", "2027-10-31T03:30")
    refused = await post(client, new, new, form)
    assert refused.status_code == 422
    said = text_of(refused)
    assert (
        "02.30 finns två gånger den natten, eftersom klockan ställs tillbaka. "
        "Välj 02.30 (sommartid) eller 02.30 (normaltid)."
    ) in said
    assert offered(refused.text, "starts_at_offset") == {"+02:00": False, "+01:00": False}
    assert "02.30 (sommartid), UTC+02:00" in said
    assert "02.30 (normaltid), UTC+01:00" in said
    assert offered(refused.text, "ends_at_offset") == {}  # 03:30 happens once
    assert 'value="2027-10-31T02:30"' in refused.text  # what was typed is kept
    assert await count_events(services) == 0

    english = await post(client, f"{new}?lang=en", f"{new}?lang=en", form)
    assert (
        "02:30 happens twice that night, because the clocks go back. "
        "Choose 02:30 (summer time) or 02:30 (standard time)."
    ) in text_of(english)

    for offset, instant in (("+01:00", FOLD_WINTER), ("+02:00", FOLD_SUMMER)):
        created = await post(client, new, new, {**form, "starts_at_offset": offset})
        assert created.status_code == 303, text_of(created)
        event_id = int(created.headers["location"].rsplit("/", 1)[1])
        event = await stored(services, event_id)
        assert event.starts_at == instant
        assert event.ends_at == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
        # The edit form shows the reading stored, chosen, so saving it as it is keeps it.
        edit = await client.get(f"/organiser/events/{event_id}/edit")
        assert offered(edit.text, "starts_at_offset") == {
            "+02:00": offset == "+02:00",
            "+01:00": offset == "+01:00",
        }
        saved = await client.post(
            f"/organiser/events/{event_id}/edit",
            data={
                "csrf_token": csrf_in(edit.text),
                **form,
                "title": "Nattkafé, ändrat",
                "starts_at_offset": offset,
            },
        )
        assert saved.status_code == 303
        assert (await stored(services, event_id)).starts_at == instant


async def test_the_event_form_refuses_a_skipped_time_and_names_the_times_around_it(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    new = "/organiser/events/new"
    form = draft_form("2027-03-28T02:30", "2027-03-28T04:00")
    # An offset sent along changes nothing: a time that does not exist is typed anew.
    for extra in ({}, {"starts_at_offset": "+01:00"}):
        refused = await post(client, new, new, {**form, **extra})
        assert refused.status_code == 422
        said = text_of(refused)
        assert (
            "02.30 finns inte den natten, eftersom klockan ställs fram. "
            "Skriv en tid före eller efter, till exempel 01.30 eller 03.30."
        ) in said
        assert offered(refused.text, "starts_at_offset") == {}
        assert 'value="2027-03-28T02:30"' in refused.text
    english = await post(client, f"{new}?lang=en", f"{new}?lang=en", form)
    assert (
        "02:30 does not exist that night, because the clocks go forward. "
        "Write a time before or after, for example 01:30 or 03:30."
    ) in text_of(english)
    assert await count_events(services) == 0


async def test_a_chosen_reading_survives_another_fields_error(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    new = "/organiser/events/new"
    form = {**draft_form("2027-10-31T02:30", "2027-10-31T03:30"), "title": ""}
    refused = await post(client, new, new, {**form, "starts_at_offset": "+01:00"})
    assert refused.status_code == 422
    assert "02.30 finns två gånger den natten" not in text_of(refused)
    assert offered(refused.text, "starts_at_offset") == {"+02:00": False, "+01:00": True}


# --- the registration window of a series ------------------------------------------------------


async def test_the_window_form_asks_which_of_a_repeated_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    async with services.transaction() as session:
        series = await create_series(session, slug="natt", title="Nattkaféer")
    starts = datetime(2027, 11, 10, 11, 0, tzinfo=UTC)
    event = await make_event(
        services, series_slug="natt", starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    page = f"/organiser/series/{series.id}/registration"
    form = {"opens": "at", "opens_at": "2027-10-31T02:30", "closes": "start"}
    refused = await post(client, page, page, form)
    assert refused.status_code == 422
    assert "02.30 finns två gånger den natten" in text_of(refused)
    assert offered(refused.text, "opens_at_offset") == {"+02:00": False, "+01:00": False}
    assert (await stored(services, event.id)).registration_opens_at is None
    gap = await post(client, page, page, {**form, "opens_at": "2027-03-28T02:30"})
    assert gap.status_code == 422
    assert "02.30 finns inte den natten" in text_of(gap)
    # The date is open for booking now: opening later closes it until then, said first.
    asked = await post(client, page, page, {**form, "opens_at_offset": "+02:00"})
    assert asked.status_code == 409
    assert "stänger för bokning direkt om du sparar" in text_of(asked)
    saved = await post(
        client, page, page, {**form, "opens_at_offset": "+02:00", "closing": str(event.id)}
    )
    assert saved.status_code == 303
    assert (await stored(services, event.id)).registration_opens_at == FOLD_SUMMER


# --- the change form --------------------------------------------------------------------------


async def test_the_change_form_asks_which_of_a_repeated_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    starts = datetime(2027, 10, 24, 10, 0, tzinfo=UTC)
    event = await make_event(services, starts_at=starts, ends_at=starts + timedelta(hours=1))
    path = f"/organiser/events/{event.id}/change"
    form = {
        "title": event.title,
        "day": "2027-10-31",
        "starts": "02:30",
        "ends": "03:30",
        "venue": "",
        "join_url": event.join_url or "",
        "capacity": str(event.capacity),
        "message": "",
    }
    refused = await post(client, path, path, form)
    assert refused.status_code == 422
    said = text_of(refused)
    assert "02.30 finns två gånger den natten, eftersom klockan ställs tillbaka." in said
    assert offered(refused.text, "starts_offset") == {"+02:00": False, "+01:00": False}
    assert offered(refused.text, "ends_offset") == {}
    assert 'value="02:30"' in refused.text
    assert 'value="2027-10-31"' in refused.text
    assert (await stored(services, event.id)).starts_at == starts

    gap = await post(client, path, path, {**form, "day": "2027-03-28"})
    assert gap.status_code == 422
    assert "02.30 finns inte den natten, eftersom klockan ställs fram." in text_of(gap)
    assert "till exempel 01.30 eller 03.30" in text_of(gap)

    preview = await post(client, path, path, {**form, "starts_offset": "+01:00"})
    assert preview.status_code == 200, text_of(preview)
    assert "02.30 (normaltid)" in text_of(preview)
    seen = re.search(r'name="seen" value="([^"]+)"', preview.text)
    assert seen is not None
    confirmed = await client.post(
        path,
        data={
            "csrf_token": csrf_in(preview.text),
            **form,
            "starts_offset": "+01:00",
            "seen": seen.group(1),
            "confirm": "yes",
        },
    )
    assert confirmed.status_code == 303
    changed = await stored(services, event.id)
    assert (changed.starts_at, changed.ends_at) == (
        FOLD_WINTER,
        datetime(2027, 10, 31, 2, 30, tzinfo=UTC),
    )
    # Shown again, the form says which 02.30 it is.
    again = await client.get(path)
    assert offered(again.text, "starts_offset") == {"+02:00": False, "+01:00": True}


# --- a series: its preview of dates and one more date -----------------------------------------


async def test_the_series_preview_flags_a_date_in_the_gap_or_the_fold(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    new = "/organiser/series/new"
    for first_day, flag in (
        ("2027-10-17", "02.30 finns två gånger den natten"),
        ("2027-03-14", "02.30 finns inte den natten"),
    ):
        form = {
            "title": "Nattkaféer",
            "slug": f"natt-{first_day}",
            "capacity": "20",
            "first_day": first_day,
            "starts": "02:30",
            "ends": "03:30",
            "every_weeks": "1",
            "count": "3",
        }
        preview = await post(client, new, new, {**form, "step": "preview"})
        assert preview.status_code == 200, text_of(preview)
        said = text_of(preview)
        assert flag in said
        boxes = re.findall(r'name="dates" type="checkbox" value="([0-9-]+)"', preview.text)
        last = (datetime.fromisoformat(first_day) + timedelta(weeks=2)).date().isoformat()
        assert len(boxes) == 2
        assert last not in boxes  # flagged, not offered, not moved
        refused = await post(client, new, new, {**form, "step": "create", "dates": [*boxes, last]})
        assert refused.status_code == 422
        assert flag in text_of(refused)
        created = await post(client, new, new, {**form, "step": "create", "dates": boxes})
        assert created.status_code == 303, text_of(created)
    async with services.transaction() as session:
        assert await session.scalar(select(func.count(Series.id))) == 2
    assert await count_events(services) == 4


async def test_one_more_date_asks_which_of_a_repeated_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    async with services.transaction() as session:
        series = await create_series(session, slug="natt", title="Nattkaféer")
    latest = datetime(2027, 10, 24, 0, 30, tzinfo=UTC)  # 02.30 summer time
    await make_event(
        services, series_slug="natt", starts_at=latest, ends_at=latest + timedelta(hours=1)
    )
    page = f"/organiser/series/{series.id}"
    refused = await post(client, page, f"{page}/dates", {"day": "2027-10-31"})
    assert refused.status_code == 422
    said = text_of(refused)
    assert "02.30 finns två gånger den natten" in said
    assert offered(refused.text, "day_offset") == {"+02:00": False, "+01:00": False}
    assert 'value="2027-10-31"' in refused.text
    assert await count_events(services) == 1
    added = await post(client, page, f"{page}/dates", {"day": "2027-10-31", "day_offset": "+01:00"})
    assert added.status_code == 303
    async with services.transaction() as session:
        starts = list(await session.scalars(select(Event.starts_at).order_by(Event.starts_at)))
    assert starts == [latest, FOLD_WINTER]


async def test_one_more_date_in_the_spring_gap_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    async with services.transaction() as session:
        series = await create_series(session, slug="natt", title="Nattkaféer")
    latest = datetime(2027, 3, 21, 1, 30, tzinfo=UTC)  # 02.30 standard time
    await make_event(
        services, series_slug="natt", starts_at=latest, ends_at=latest + timedelta(hours=1)
    )
    page = f"/organiser/series/{series.id}"
    for data in ({"day": "2027-03-28"}, {"day": "2027-03-28", "day_offset": "+01:00"}):
        refused = await post(client, page, f"{page}/dates", data)
        assert refused.status_code == 422
        assert "02.30 finns inte den natten, eftersom klockan ställs fram." in text_of(refused)
        assert offered(refused.text, "day_offset") == {}
    assert await count_events(services) == 1
