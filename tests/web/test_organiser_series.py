"""A series' own page in the organiser workspace, through the app: every date in order with
its seats, publishing all drafts after a confirmation, editing the series, one registration
window for all dates, a guide example linked to and unlinked from every date, one more date
like the latest; each in the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from events.models import Event, EventStatus, Series
from events.schedule import EventChanges, mark_cancelled
from foundation.services import Services
from guide.catalogue import add_example, examples_for_event, link_example
from mail.models import MessageKind, OutboxMessage
from organisers.models import AuditEntry
from registrations.organising import update_event
from tests.factories import SOON, add_confirmed, csrf_in, make_event, make_series
from tests.signing_in import add, sign_in, text_of

STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "olle@myndigheten.example.se", role="organiser")
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303


async def series_id(services: Services, slug: str = "cafeer") -> int:
    async with services.transaction() as session:
        found = await session.scalar(select(Series.id).where(Series.slug == slug))
    assert found is not None
    return found


async def dates_of(services: Services, sid: int) -> list[Event]:
    async with services.transaction() as session:
        return list(
            await session.scalars(
                select(Event).where(Event.series_id == sid).order_by(Event.starts_at)
            )
        )


async def post(
    client: httpx.AsyncClient, page: str, action: str, data: Mapping[str, str | list[str]]
) -> httpx.Response:
    shown = await client.get(page)
    assert shown.status_code == 200, page
    return await client.post(action, data={"csrf_token": csrf_in(shown.text), **data})


async def audit(services: Services) -> list[tuple[str, str, dict[str, object]]]:
    async with services.transaction() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.subject, dict(row.detail)) for row in rows]


async def draft_in_series(services: Services, title: str, days: int) -> Event:
    """A one-hour draft of the series "cafeer", `days` after SOON."""
    return await make_event(
        services,
        title=title,
        series_slug="cafeer",
        publish=False,
        starts_at=SOON + timedelta(days=days),
        ends_at=SOON + timedelta(days=days, hours=1),
    )


async def test_the_series_page_shows_every_date_in_order_with_seats_and_examples(
    services: Services, client: httpx.AsyncClient
) -> None:
    published = await make_series(services, events=2)
    draft = await draft_in_series(services, "Kafé extra", 21)
    await add_confirmed(services, published[0].id, range(3))
    async with services.transaction() as session:
        await mark_cancelled(session, published[1].id)
        await add_example(
            session, slug="varberg", title="Bygglov i Varberg", organisation="V", summary=""
        )
        await link_example(session, event_id=draft.id, example_slug="varberg", note="Läs före")
    sid = await series_id(services)
    await signed_in(services, client)

    page = await client.get(f"/organiser/series/{sid}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    seen = text_of(page)
    # In order, with status, seats and waitlist; each linking to its own organiser page.
    rows = re.findall(r"<tr>\s*<th scope=\"row\"><a href=\"/organiser/events/(\d+)\"", page.text)
    assert rows == [str(published[0].id), str(published[1].id), str(draft.id)]
    assert "Publicerat" in seen
    assert "Inställt" in seen
    assert "Utkast" in seen
    assert "3 / 20" in seen
    assert 'href="/series/cafeer"' in page.text
    assert "Bygglov i Varberg" in seen
    assert "kopplat till 1 av 3 datum" in seen
    assert "Läs före" in seen

    # Linked from the overview and from each date's page.
    assert f'href="/organiser/series/{sid}"' in (await client.get("/organiser/")).text
    date_page = await client.get(f"/organiser/events/{draft.id}")
    assert f'href="/organiser/series/{sid}"' in date_page.text

    assert (await client.get("/organiser/series/2147483647")).status_code == 404


async def test_creating_a_series_leads_to_its_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    day = (datetime.now(STOCKHOLM).date() + timedelta(days=30)).isoformat()
    form = {
        "title": "Vårkaféer",
        "slug": "varkafeer",
        "capacity": "25",
        "first_day": day,
        "starts": "12:00",
        "ends": "13:00",
        "every_weeks": "1",
        "count": "2",
    }
    preview = await post(client, "/organiser/series/new", "/organiser/series/new", form)
    ticked = re.findall(r'name="dates" type="checkbox" value="([0-9-]+)" checked', preview.text)
    created = await client.post(
        "/organiser/series/new",
        data={"csrf_token": csrf_in(preview.text), **form, "step": "create", "dates": ticked},
    )
    sid = await series_id(services, "varkafeer")
    assert created.status_code == 303
    assert created.headers["location"] == f"/organiser/series/{sid}"
    page = await client.get(created.headers["location"])
    assert "Serien är skapad." in text_of(page)
    assert len(re.findall(r'<th scope="row">', page.text)) == len(ticked) > 0


async def test_publish_all_drafts_after_a_confirmation_one_audit_entry_each(
    services: Services, client: httpx.AsyncClient
) -> None:
    (published,) = await make_series(services, events=1)
    drafts = [await draft_in_series(services, "Kafé", 7 * n) for n in (1, 2)]
    past = await make_event(
        services,
        title="Förbi",
        series_slug="cafeer",
        publish=False,
        starts_at=SOON - timedelta(days=30),
        ends_at=SOON - timedelta(days=30, hours=-1),
    )
    sid = await series_id(services)
    await signed_in(services, client)

    confirm = await client.get(f"/organiser/series/{sid}/publish")
    assert confirm.status_code == 200
    listed = re.findall(r'name="event" value="(\d+:[^"]+)"', confirm.text)
    assert [pair.split(":")[0] for pair in listed] == [str(d.id) for d in drafts]  # coming only
    assert "Ja, publicera 2 datum" in text_of(confirm)
    # Looking wrote nothing.
    assert {e.status for e in await dates_of(services, sid) if e.id != published.id} == {
        EventStatus.DRAFT
    }

    # A draft added after the confirmation was shown is not published unseen.
    late = await draft_in_series(services, "Sen", 28)
    done = await client.post(
        f"/organiser/series/{sid}/publish",
        data={"csrf_token": csrf_in(confirm.text), "event": listed},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/organiser/series/{sid}"
    statuses = {e.id: e.status for e in await dates_of(services, sid)}
    assert statuses[drafts[0].id] == statuses[drafts[1].id] == EventStatus.PUBLISHED
    assert statuses[late.id] == statuses[past.id] == EventStatus.DRAFT
    published_entries = [(a, s) for a, s, _ in await audit(services) if a == "event.published"]
    assert published_entries == [("event.published", f"event:{d.id}") for d in drafts]
    page = await client.get(f"/organiser/series/{sid}")
    assert "2 datum är publicerade" in text_of(page)
    assert f'/organiser/events/{drafts[0].id}"' in page.text
    assert f"/events/{drafts[0].id}" in (await client.get("/series/cafeer")).text

    # Sent again: nothing listed is a draft any more, so the page says so.
    again = await client.post(
        f"/organiser/series/{sid}/publish",
        data={"csrf_token": csrf_in(page.text), "event": listed},
    )
    assert again.status_code == 409
    assert "Det finns inga kommande utkast att publicera i serien." in text_of(again)


async def test_editing_the_series_shows_on_its_public_page_and_errors_keep_the_input(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_series(services, events=2)
    sid = await series_id(services)
    await signed_in(services, client)
    edit = f"/organiser/series/{sid}/edit"
    form = await client.get(edit)
    assert 'value="Lunchkaféer"' in form.text

    refused = await post(
        client,
        edit,
        edit,
        {
            "title": "",
            "summary": "Skrivet",
            "description": "",
            "host": "",
            "reminder_offsets": "tre dagar",
        },
    )
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.text
    assert 'href="#field-title"' in refused.text
    assert 'href="#field-reminder_offsets"' in refused.text
    assert ">Skrivet</textarea>" in refused.text
    assert 'value="tre dagar"' in refused.text
    async with services.transaction() as session:
        assert (await session.get_one(Series, sid)).summary == ""  # nothing half-stored

    saved = await post(
        client,
        edit,
        edit,
        {
            "title": "Höstens lunchkaféer",
            "summary": "Sex onsdagar",
            "description": "Om **förenkling**.\n\n<script>alert(1)</script>",
            "host": "Landsbygdsnätverket",
            "reminder_offsets": "48h,1h",
        },
    )
    assert saved.status_code == 303
    public = await client.get("/series/cafeer")
    assert "Höstens lunchkaféer" in public.text
    assert "Landsbygdsnätverket" in public.text
    assert "<strong>förenkling</strong>" in public.text
    assert "<script>alert" not in public.text
    async with services.transaction() as session:
        series = await session.get_one(Series, sid)
        assert series.reminder_offsets == [2880, 60]
    # The dates keep their own titles: those are in attendees' calendars.
    assert [e.title for e in await dates_of(services, sid)] == [e.title for e in events]
    assert ("series.updated", f"series:{sid}", {}) in await audit(services)


async def test_one_registration_window_for_every_coming_date(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_series(services, events=3)
    began = await make_event(
        services,
        title="Förbi",
        series_slug="cafeer",
        starts_at=SOON - timedelta(days=30),
        ends_at=SOON - timedelta(days=30, hours=-1),
    )
    sid = await series_id(services)
    await signed_in(services, client)
    window = f"/organiser/series/{sid}/registration"

    done = await post(
        client,
        window,
        window,
        {"opens": "days", "opens_days": "30", "closes": "hours", "closes_hours": "2"},
    )
    assert done.status_code == 303
    dates = {e.id: e for e in await dates_of(services, sid)}
    for event in events:
        stored = dates[event.id]
        assert stored.registration_opens_at == stored.starts_at - timedelta(days=30)
        assert stored.registration_closes_at == stored.starts_at - timedelta(hours=2)
    assert dates[began.id].registration_opens_at is None  # a date that began is left alone
    assert ("series.window_set", f"series:{sid}", {"events": 3}) in await audit(services)
    shown = await client.get(window)
    assert 'value="30"' in shown.text
    assert 'value="2"' in shown.text

    # One date's window set on its own page is shown as its own.
    async with services.transaction() as session:
        stored = await session.get_one(Event, events[1].id)
        stored.registration_closes_at = stored.starts_at - timedelta(hours=5)
    page = text_of(await client.get(f"/organiser/series/{sid}"))
    assert page.count("egen anmälningstid") == 1
    assert "öppnar 30 dagar före start, stänger 2 timmar före start" in page

    # One instant for all, typed in Stockholm time (gone by: every date stays open).
    opens = (SOON - timedelta(days=11)).astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M")
    assert (
        await post(client, window, window, {"opens": "at", "opens_at": opens, "closes": "start"})
    ).status_code == 303
    expected = datetime.fromisoformat(opens).replace(tzinfo=STOCKHOLM).astimezone(UTC)
    for stored in await dates_of(services, sid):
        if stored.id != began.id:
            assert (stored.registration_opens_at, stored.registration_closes_at) == (expected, None)

    # Closing before it opens is refused for every date, what was typed kept.
    refused = await post(
        client,
        window,
        window,
        {"opens": "days", "opens_days": "1", "closes": "hours", "closes_hours": "48"},
    )
    assert refused.status_code == 422
    assert 'href="#field-closes_hours"' in refused.text
    assert 'value="48"' in refused.text
    bad = await post(client, window, window, {"opens": "days", "opens_days": "tusen"})
    assert bad.status_code == 422
    assert 'href="#field-opens_days"' in bad.text


async def test_an_example_linked_to_the_whole_series_and_unlinked_from_all(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_series(services, events=3)
    async with services.transaction() as session:
        for slug, title in (("forst", "Först"), ("varberg", "Bygglov i Varberg")):
            await add_example(session, slug=slug, title=title, organisation="K", summary="")
        await link_example(session, event_id=events[1].id, example_slug="forst")
        await link_example(session, event_id=events[2].id, example_slug="varberg", note="Egen")
    sid = await series_id(services)
    await signed_in(services, client)
    page = f"/organiser/series/{sid}"

    linked = await post(
        client,
        page,
        f"{page}/examples",
        {"example": "varberg", "note": "Läs före: så förenklade Varberg bygglovet."},
    )
    assert linked.status_code == 303
    async with services.transaction() as session:
        lists = [await examples_for_event(session, e.id) for e in events]
    assert [[i.example.slug for i in items] for items in lists] == [
        ["varberg"],
        ["forst", "varberg"],  # appended after what the date already had
        ["varberg"],
    ]
    assert lists[2][0].note == "Egen"  # the date already linking it keeps its own note
    assert lists[0][0].note == "Läs före: så förenklade Varberg bygglovet."
    example_id = lists[0][0].example.id
    assert (
        "series.example_linked",
        f"series:{sid}",
        {"example": example_id, "events": 2},
    ) in await audit(services)
    assert "Exemplet är kopplat till 2 datum." in text_of(await client.get(page))

    too_long = await post(client, page, f"{page}/examples", {"example": "forst", "note": "x" * 301})
    assert too_long.status_code == 422
    assert 'href="#field-note"' in too_long.text
    assert "x" * 301 in too_long.text

    removed = await post(client, page, f"{page}/examples/remove", {"example_id": str(example_id)})
    assert removed.status_code == 303
    async with services.transaction() as session:
        lists = [await examples_for_event(session, e.id) for e in events]
    assert [[i.example.slug for i in items] for items in lists] == [[], ["forst"], []]
    assert (
        "series.example_unlinked",
        f"series:{sid}",
        {"example": example_id, "events": 3},
    ) in await audit(services)


async def test_a_new_date_copies_the_latest_date_and_keeps_its_wall_clock_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in(services, client)
    # The latest date at 12.00 Stockholm time in winter; the new one in summer time.
    year = datetime.now(STOCKHOLM).year + 1
    starts = datetime(year, 3, 4, 12, 0, tzinfo=STOCKHOLM).astimezone(UTC)
    await make_series(services, events=0)
    latest = await make_event(
        services,
        title="Kafé i mars",
        series_slug="cafeer",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        capacity=33,
        venue="Stadshuset",
        registration_opens_at=starts - timedelta(days=10),
    )
    async with services.transaction() as session:
        stored = await session.get_one(Event, latest.id)
        stored.host = "Nätverket"
        stored.reminder_offsets = [120]
        await add_example(session, slug="varberg", title="Varberg", organisation="V", summary="")
        await link_example(session, event_id=latest.id, example_slug="varberg", note="Läs")
    sid = await series_id(services)
    page = f"/organiser/series/{sid}"
    shown = await client.get(page)
    assert f'value="{year}-03-11"' in shown.text  # a week after the latest, suggested

    added = await post(client, page, f"{page}/dates", {"day": f"{year}-04-08"})
    assert added.status_code == 303
    new = (await dates_of(services, sid))[-1]
    assert new.id != latest.id
    assert new.status == EventStatus.DRAFT
    assert new.starts_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") == f"{year}-04-08 12:00"
    assert new.ends_at - new.starts_at == timedelta(minutes=90)
    assert (new.title, new.capacity, new.venue, new.host, new.reminder_offsets) == (
        "Kafé i mars",
        33,
        "Stadshuset",
        "Nätverket",
        [120],
    )
    assert new.registration_opens_at == new.starts_at - timedelta(days=10)
    async with services.transaction() as session:
        assert [(i.example.slug, i.note) for i in await examples_for_event(session, new.id)] == [
            ("varberg", "Läs")
        ]
    entry = ("series.date_added", f"series:{sid}", {"event": new.id, "source": latest.id})
    assert any(
        e[:2] == entry[:2] and entry[2].items() <= e[2].items() for e in await audit(services)
    )

    # A day already taken, a day gone by and no day at all are said next to the field.
    for day, said in (
        (f"{year}-04-08", "Serien har redan ett datum den dagen."),
        ("2001-01-03", "Starttiden har redan passerat."),
        ("", "Skriv ett datum"),
    ):
        refused = await post(client, page, f"{page}/dates", {"day": day})
        assert refused.status_code == 422, day
        assert said in text_of(refused)
        assert 'href="#field-day"' in refused.text
        assert f'value="{day}"' in refused.text
    assert len(await dates_of(services, sid)) == 2


async def test_a_published_dates_time_is_not_changed_from_the_series_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    """No step of the series page moves an entry in an attendee's calendar or writes them a
    mail: that is the change flow's, which tells them first. Every step is taken (and
    answers 303, done) on a series whose published date has people booked."""
    events = await make_series(services, events=2)
    await add_confirmed(services, events[0].id, range(2))
    async with services.transaction() as session:
        await add_example(session, slug="varberg", title="Varberg", organisation="V", summary="")
    draft = await draft_in_series(services, "Kafé utkast", 21)
    sid = await series_id(services)
    await signed_in(services, client)
    mails_before = await attendee_mails(services)

    def calendar(found: list[Event]) -> list[tuple[object, ...]]:
        return [
            (e.starts_at, e.ends_at, e.title, e.venue, e.join_url, e.capacity, e.sequence)
            for e in found
            if e.id in {events[0].id, events[1].id}
        ]

    before = calendar(events)
    page = f"/organiser/series/{sid}"
    edited = await post(
        client,
        f"{page}/edit",
        f"{page}/edit",
        {"title": "Nytt namn", "summary": "", "description": "", "host": "Nätverket"},
    )
    assert edited.status_code == 303
    window = f"{page}/registration"
    said = await post(
        client, window, window, {"opens": "days", "opens_days": "3", "closes": "start"}
    )
    assert said.status_code == 409  # both open dates would close for booking now: asked first
    closing = re.search(r'name="closing" value="([^"]*)"', said.text)
    assert closing is not None
    windowed = await client.post(
        window,
        data={
            "csrf_token": csrf_in(said.text),
            "opens": "days",
            "opens_days": "3",
            "closes": "start",
            "closing": closing.group(1),
        },
    )
    assert windowed.status_code == 303
    day = (SOON + timedelta(days=28)).astimezone(STOCKHOLM).date().isoformat()
    assert (await post(client, page, f"{page}/dates", {"day": day})).status_code == 303
    linked = await post(client, page, f"{page}/examples", {"example": "varberg", "note": "Läs"})
    assert linked.status_code == 303
    async with services.transaction() as session:
        example_id = (await examples_for_event(session, events[0].id))[0].example.id
    unlinked = await post(client, page, f"{page}/examples/remove", {"example_id": str(example_id)})
    assert unlinked.status_code == 303
    confirm = await client.get(f"{page}/publish")
    listed = re.findall(r'name="event" value="([^"]+)"', confirm.text)
    assert len(listed) == 2  # the draft and the date just added
    published = await client.post(
        f"{page}/publish", data={"csrf_token": csrf_in(confirm.text), "event": listed}
    )
    assert published.status_code == 303

    after = await dates_of(services, sid)
    assert calendar(after) == before
    assert {e.id for e in after if e.status == EventStatus.PUBLISHED} >= {draft.id}
    assert await attendee_mails(services) == mails_before
    assert (
        "Ändra tid, plats eller platser"
        in (await client.get(f"/organiser/events/{events[0].id}")).text
    )


async def attendee_mails(services: Services) -> list[tuple[str, str]]:
    """Every outbox row telling someone booked of a change to their event."""
    async with services.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind.in_(
                    [
                        MessageKind.EVENT_CHANGED,
                        MessageKind.EVENT_CANCELLED,
                        MessageKind.REGISTRATION_CANCELLED,
                        MessageKind.PROMOTED,
                        MessageKind.ORGANISER_MESSAGE,
                    ]
                )
            )
        )
        return [(row.kind.value, row.recipient) for row in rows]


async def test_a_fixed_closing_time_closes_each_date_at_the_latest_when_it_starts(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_series(services, events=3)  # SOON, a week and two weeks later
    sid = await series_id(services)
    await signed_in(services, client)
    window = f"/organiser/series/{sid}/registration"
    shown = await client.get(window)
    assert "Ett datum som börjar före den tiden stänger när det börjar." in text_of(shown)
    closes = (SOON + timedelta(days=10)).astimezone(STOCKHOLM)
    typed = closes.strftime("%Y-%m-%dT%H:%M")
    done = await post(client, window, window, {"opens": "now", "closes": "at", "closes_at": typed})
    assert done.status_code == 303
    stored = {e.id: e for e in await dates_of(services, sid)}
    at = datetime.fromisoformat(typed).replace(tzinfo=STOCKHOLM).astimezone(UTC)
    # The first two start before that time: each closes when it starts, never after.
    assert [stored[e.id].registration_closes_at for e in events] == [None, None, at]
    page = text_of(await client.get(f"/organiser/series/{sid}"))
    assert "egen anmälningstid" not in page
    assert page.count("stänger när evenemanget börjar") == 2


async def test_a_window_that_closes_booking_now_is_said_before_it_is_saved(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_series(services, events=2)  # 10 and 17 days away, open now
    sid = await series_id(services)
    await signed_in(services, client)
    window = f"/organiser/series/{sid}/registration"
    form = {"opens": "now", "closes": "hours", "closes_hours": "264"}  # 11 days before

    said = await post(client, window, window, form)
    assert said.status_code == 409
    seen = text_of(said)
    assert "1 datum som går att boka nu stänger för bokning direkt" in seen
    assert 'value="264"' in said.text  # what was typed is kept
    assert [e.registration_closes_at for e in await dates_of(services, sid)] == [None, None]
    assert ("series.window_set", f"series:{sid}", {"events": 2}) not in await audit(services)
    closing = re.search(r'name="closing" value="([^"]*)"', said.text)
    assert closing is not None
    assert closing.group(1) == str(events[0].id)

    saved = await client.post(
        window, data={"csrf_token": csrf_in(said.text), **form, "closing": closing.group(1)}
    )
    assert saved.status_code == 303
    assert [e.registration_closes_at for e in await dates_of(services, sid)] == [
        e.starts_at - timedelta(hours=264) for e in events
    ]
    # A rule closing nothing that is open now is saved at once.
    again = await post(client, window, window, {"opens": "now", "closes": "start"})
    assert again.status_code == 303


async def test_a_draft_changed_after_the_confirmation_is_not_published_unseen(
    services: Services, client: httpx.AsyncClient
) -> None:
    await make_series(services, events=1)
    drafts = [await draft_in_series(services, "Kafé", 7 * n) for n in (1, 2)]
    sid = await series_id(services)
    await signed_in(services, client)
    confirm = await client.get(f"/organiser/series/{sid}/publish")
    listed = re.findall(r'name="event" value="([^"]+)"', confirm.text)
    async with services.transaction() as session:
        await update_event(session, drafts[1].id, EventChanges(title="Omdöpt kafé"))

    refused = await client.post(
        f"/organiser/series/{sid}/publish",
        data={"csrf_token": csrf_in(confirm.text), "event": listed},
    )
    assert refused.status_code == 409
    seen = text_of(refused)
    assert "har ändrats sedan" in seen
    assert "Omdöpt kafé" in seen  # the list as it is now
    assert {e.status for e in await dates_of(services, sid) if e.id in {d.id for d in drafts}} == {
        EventStatus.DRAFT
    }
    fresh = re.findall(r'name="event" value="([^"]+)"', refused.text)
    assert fresh != listed
    done = await client.post(
        f"/organiser/series/{sid}/publish",
        data={"csrf_token": csrf_in(refused.text), "event": fresh},
    )
    assert done.status_code == 303
    assert {e.status for e in await dates_of(services, sid)} == {EventStatus.PUBLISHED}


async def test_removing_an_example_already_gone_does_not_say_zero_dates(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_series(services, events=2)
    async with services.transaction() as session:
        await add_example(session, slug="varberg", title="Varberg", organisation="V", summary="")
        await link_example(session, event_id=events[0].id, example_slug="varberg")
        example_id = (await examples_for_event(session, events[0].id))[0].example.id
    sid = await series_id(services)
    await signed_in(services, client)
    page = f"/organiser/series/{sid}"
    remove = {"example_id": str(example_id)}
    assert (await post(client, page, f"{page}/examples/remove", remove)).status_code == 303
    assert "Exemplet är borttaget från 1 datum." in text_of(await client.get(page))
    assert (await post(client, page, f"{page}/examples/remove", remove)).status_code == 303
    shown = text_of(await client.get(page))
    assert "0 datum" not in shown
    assert "Exemplet var inte kopplat till något datum i serien." in shown
