"""Organisers run series and events from the browser: create, publish, unpublish, duplicate,
delete a draft, plan a series of dates with holidays flagged, link guide examples."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from events.models import Event, EventStatus, Series
from foundation.services import Services
from guide.catalogue import add_example, examples_for_event, link_example
from organisers.models import AuditEntry
from registrations import booking
from tests.conftest import SECRET
from tests.factories import SOON, csrf_in, make_event, person
from tests.signing_in import add, sign_in, text_of

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(moment_days: int, hour: int) -> str:
    """A datetime-local value `moment_days` from SOON's day at `hour`.00 Stockholm time."""
    day = SOON.astimezone(STOCKHOLM).date() + timedelta(days=moment_days)
    return f"{day.isoformat()}T{hour:02d}:00"


async def signed_in_organiser(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "olle@myndigheten.example.se", role="organiser")
    assert (await sign_in(client, "olle@myndigheten.example.se")).status_code == 303


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    page = await client.get(page_path)
    assert page.status_code == 200, page_path
    return await client.post(action, data={"csrf_token": csrf_in(page.text), **data})


def event_id_of(response: httpx.Response) -> int:
    found = re.fullmatch(r"/organiser/events/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


async def actions(services: Services) -> list[tuple[str, str]]:
    async with services.transaction() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.subject) for row in rows]


async def planned(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    """The series form's preview of the dates `form` plans (nothing is stored)."""
    return await post_form(
        client, "/organiser/series/new", "/organiser/series/new", {**form, "step": "preview"}
    )


def ticked_in(preview: httpx.Response) -> list[str]:
    """The dates the preview ticks for creating, in order (a holiday comes unticked)."""
    return re.findall(r'name="dates" type="checkbox" value="([0-9-]+)" checked', preview.text)


async def test_create_then_publish_and_it_is_on_the_public_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    created = await post_form(
        client,
        "/organiser/events/new",
        "/organiser/events/new",
        {
            "title": "Workshop om bygglov",
            "kind": "workshop",
            "summary": "Hur går det snabbare?",
            "description": "## Program\n\n- **Varberg** berättar\n- <script>alert(1)</script>",
            "starts_at": local(0, 12),
            "ends_at": local(0, 13),
            "capacity": "30",
            "join_url": "https://meet.example.se/bygglov",
            "host": "Nätverket för bygglov",
            "reminder_offsets": "24h,1h",
        },
    )
    assert created.status_code == 303
    event_id = event_id_of(created)
    desk = await client.get(f"/organiser/events/{event_id}")
    assert desk.headers["cache-control"] == "private, no-store"
    seen = text_of(desk)
    assert "Utkastet är sparat." in seen
    assert "Utkast" in seen
    assert "Nätverket för bygglov" in seen
    assert "24 timmar, 1 timme före start" in seen
    assert (await client.get(f"/events/{event_id}")).status_code == 404  # a draft is not public

    published = await post_form(
        client, f"/organiser/events/{event_id}", f"/organiser/events/{event_id}/publish", {}
    )
    assert published.status_code == 303
    public = await client.get(f"/events/{event_id}")
    assert public.status_code == 200
    assert "Workshop om bygglov" in public.text
    assert "<h3>Program</h3>" in public.text
    assert "<strong>Varberg</strong>" in public.text
    assert "<script>alert" not in public.text
    assert "meet.example.se" not in public.text  # the join link goes only to the booked
    assert ("event.created", f"event:{event_id}") in await actions(services)
    assert ("event.published", f"event:{event_id}") in await actions(services)

    # On the overview, the title leads to the event's own page.
    home = await client.get("/organiser/")
    assert f'href="/organiser/events/{event_id}"' in home.text
    # A published event's page offers the change and cancel flows, not an edit of its time.
    desk = await client.get(f"/organiser/events/{event_id}")
    assert f'href="/organiser/events/{event_id}/change"' in desk.text
    assert f'href="/organiser/events/{event_id}/cancel"' in desk.text
    edit = await client.get(f"/organiser/events/{event_id}/edit")
    assert 'name="starts_at"' not in edit.text
    assert 'name="description"' in edit.text


async def test_bad_input_is_said_next_to_each_field_and_nothing_is_stored(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    refused = await post_form(
        client,
        "/organiser/events/new",
        "/organiser/events/new",
        {"title": "", "starts_at": local(0, 13), "ends_at": local(0, 12), "capacity": "30"},
    )
    assert refused.status_code == 422
    seen = text_of(refused)
    assert "Det finns fel i formuläret" in seen
    assert "Ange en titel." in seen
    assert "Sluttiden måste vara efter starttiden." in seen
    async with services.transaction() as session:
        assert (await session.scalars(select(Event))).first() is None


async def test_unpublish_only_while_nobody_has_booked(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    quiet = await make_event(services, title="Ingen har bokat")
    booked = await make_event(services, title="Någon har bokat")
    async with services.transaction() as session:
        await booking.book(session, event_id=booked.id, attendee=person(1), secret_key=SECRET)

    back = await post_form(
        client, f"/organiser/events/{quiet.id}", f"/organiser/events/{quiet.id}/unpublish", {}
    )
    assert back.status_code == 303
    assert "Evenemanget är ett utkast igen" in text_of(await client.get(back.headers["location"]))
    assert (await client.get(f"/events/{quiet.id}")).status_code == 404

    refused = await post_form(
        client, f"/organiser/events/{booked.id}", f"/organiser/events/{booked.id}/unpublish", {}
    )
    assert refused.status_code == 409
    seen = text_of(refused)
    assert "1 personer har anmält sig" in seen
    assert "Ställ in det i stället" in seen
    assert (await client.get(f"/events/{booked.id}")).status_code == 200
    async with services.transaction() as session:
        assert (await session.get_one(Event, booked.id)).status == EventStatus.PUBLISHED


async def test_duplicate_makes_a_draft_a_week_later_with_everything_copied(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    original = await make_event(
        services, title="Lunchkafé om förenkling", summary="Kort", description="Lång", capacity=40
    )
    async with services.transaction() as session:
        await add_example(
            session, slug="varberg", title="Varbergs bygglov", organisation="Varberg", summary=""
        )
        await add_example(
            session, slug="umea", title="Umeås e-tjänst", organisation="Umeå", summary=""
        )
        await link_example(session, event_id=original.id, example_slug="umea", note="Läs först")
        await link_example(session, event_id=original.id, example_slug="varberg", note="Sedan")
        stored = await session.get_one(Event, original.id)
        stored.host = "Tillväxtnätverket"
        stored.reminder_offsets = [120]

    copied = await post_form(
        client,
        f"/organiser/events/{original.id}",
        f"/organiser/events/{original.id}/duplicate",
        {"weeks": "1"},
    )
    assert copied.status_code == 303
    copy_id = event_id_of(copied)
    assert copy_id != original.id
    async with services.transaction() as session:
        copy = await session.get_one(Event, copy_id)
        assert copy.status == EventStatus.DRAFT
        assert (copy.title, copy.summary, copy.description) == (
            "Lunchkafé om förenkling",
            "Kort",
            "Lång",
        )
        assert copy.starts_at == original.starts_at + timedelta(weeks=1)
        assert copy.ends_at == original.ends_at + timedelta(weeks=1)
        assert copy.capacity == 40
        assert copy.join_url == original.join_url
        assert copy.host == "Tillväxtnätverket"
        assert copy.reminder_offsets == [120]
        assert copy.uid != original.uid
        linked = await examples_for_event(session, copy_id)
        assert [(item.example.slug, item.note) for item in linked] == [
            ("umea", "Läs först"),
            ("varberg", "Sedan"),
        ]
    assert "Det här är en kopia" in text_of(await client.get(f"/organiser/events/{copy_id}"))


async def test_a_draft_is_deleted_only_after_confirming(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    draft = await make_event(services, title="Glömt utkast", publish=False)
    published = await make_event(services, title="Publicerat")
    desk = await client.get(f"/organiser/events/{draft.id}")
    assert f'href="/organiser/events/{draft.id}/delete"' in desk.text
    confirm = await client.get(f"/organiser/events/{draft.id}/delete")
    assert "Radera utkastet?" in text_of(confirm)
    async with services.transaction() as session:
        assert await session.get(Event, draft.id) is not None  # asking deletes nothing
    deleted = await client.post(
        f"/organiser/events/{draft.id}/delete", data={"csrf_token": csrf_in(confirm.text)}
    )
    assert deleted.status_code == 303
    assert (await client.get(f"/organiser/events/{draft.id}")).status_code == 404
    assert ("event.deleted", f"event:{draft.id}") in await actions(services)

    refused = await post_form(
        client,
        f"/organiser/events/{published.id}/delete",
        f"/organiser/events/{published.id}/delete",
        {},
    )
    assert refused.status_code == 409
    assert "Bara ett utkast kan raderas" in text_of(refused)
    assert (await client.get(f"/events/{published.id}")).status_code == 200


async def test_cancelling_a_draft_never_makes_it_public(services: Services) -> None:
    from events.errors import DraftNotCancelled
    from registrations.organising import cancel_event

    draft = await make_event(services, title="Hemligt utkast", publish=False)
    try:
        async with services.transaction() as session:
            await cancel_event(session, draft.id)
    except DraftNotCancelled:
        pass
    else:
        raise AssertionError("a draft was cancelled")
    async with services.transaction() as session:
        assert (await session.get_one(Event, draft.id)).status == EventStatus.DRAFT


async def test_a_series_of_four_wednesdays_flags_trettondedag_jul(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    form = {
        "title": "Lunchkafé vintern 2027",
        "slug": "vintern-2027",
        "summary": "Fyra onsdagar",
        "description": "Om **förenkling**.",
        "host": "Landsbygdsnätverket",
        "capacity": "50",
        "join_url": "https://meet.example.se/vinter",
        "first_day": "2026-12-30",
        "starts": "12:00",
        "ends": "13.00",
        "every_weeks": "1",
        "count": "4",
        "reminder_offsets": "24h,1h",
    }
    preview = await planned(client, form)
    assert preview.status_code == 200
    seen = text_of(preview)
    assert "Helgdag: Trettondedag jul" in seen
    assert "onsdag 6 januari 2027" in seen
    # Holidays come unticked; the other three ticked.
    ticked = ticked_in(preview)
    assert ticked == ["2026-12-30", "2027-01-13", "2027-01-20"]
    async with services.transaction() as session:
        assert (await session.scalars(select(Series))).first() is None  # the preview wrote nothing

    created = await client.post(
        "/organiser/series/new",
        data={"csrf_token": csrf_in(preview.text), **form, "step": "create", "dates": ticked},
    )
    assert created.status_code == 303
    async with services.transaction() as session:
        series = (await session.scalars(select(Series))).one()
        assert series.reminder_offsets == [1440, 60]
        assert series.host == "Landsbygdsnätverket"
        events = list(
            await session.scalars(
                select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)
            )
        )
    assert [e.starts_at.astimezone(STOCKHOLM).date() for e in events] == [
        date(2026, 12, 30),
        date(2027, 1, 13),
        date(2027, 1, 20),
    ]
    assert {e.starts_at.astimezone(STOCKHOLM).strftime("%H:%M") for e in events} == {"12:00"}
    assert {e.status for e in events} == {EventStatus.DRAFT}
    assert {e.capacity for e in events} == {50}
    assert ("series.created", f"series:{series.id}") in await actions(services)
    assert (await client.get("/series/vintern-2027")).status_code == 200
    assert "Lunchkafé vintern 2027" not in (await client.get("/")).text  # drafts stay hidden


async def test_a_series_keeps_its_wall_clock_time_across_daylight_saving(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    form = {
        "title": "Vårens kaféer",
        "slug": "var-2027",
        "capacity": "20",
        "first_day": "2027-03-17",
        "starts": "12:00",
        "ends": "13:00",
        "every_weeks": "2",
        "count": "3",
    }
    preview = await planned(client, form)
    days = ticked_in(preview)
    assert days == ["2027-03-17", "2027-03-31", "2027-04-14"]
    created = await client.post(
        "/organiser/series/new",
        data={"csrf_token": csrf_in(preview.text), **form, "step": "create", "dates": days},
    )
    assert created.status_code == 303
    async with services.transaction() as session:
        starts = list(await session.scalars(select(Event.starts_at).order_by(Event.starts_at)))
    assert [s.astimezone(STOCKHOLM).hour for s in starts] == [12, 12, 12]
    assert [s.hour for s in starts] == [11, 10, 10]  # UTC: winter time, then summer time


async def test_guide_examples_are_linked_in_order_moved_and_removed(
    services: Services, client: httpx.AsyncClient
) -> None:
    await signed_in_organiser(services, client)
    event = await make_event(services)
    async with services.transaction() as session:
        for slug in ("a-exempel", "b-exempel", "c-exempel"):
            await add_example(
                session, slug=slug, title=slug.upper(), organisation="Kommun", summary=""
            )
    page = f"/organiser/events/{event.id}"
    for slug in ("a-exempel", "b-exempel", "c-exempel"):
        linked = await post_form(
            client, page, f"{page}/examples", {"example": slug, "note": f"Varför {slug}"}
        )
        assert linked.status_code == 303

    async def order() -> list[str]:
        async with services.transaction() as session:
            return [item.example.slug for item in await examples_for_event(session, event.id)]

    assert await order() == ["a-exempel", "b-exempel", "c-exempel"]
    async with services.transaction() as session:
        ids = {
            item.example.slug: item.example.id
            for item in await examples_for_event(session, event.id)
        }
    await post_form(
        client,
        page,
        f"{page}/examples/move",
        {"example_id": str(ids["c-exempel"]), "direction": "up"},
    )
    assert await order() == ["a-exempel", "c-exempel", "b-exempel"]
    await post_form(client, page, f"{page}/examples/remove", {"example_id": str(ids["a-exempel"])})
    assert await order() == ["c-exempel", "b-exempel"]
    public = text_of(await client.get(f"/events/{event.id}"))
    assert public.index("C-EXEMPEL") < public.index("B-EXEMPEL")
    assert "Varför c-exempel" in public

    too_long = await post_form(
        client, page, f"{page}/examples", {"example": "a-exempel", "note": "x" * 301}
    )
    assert too_long.status_code == 422
    assert "Högst 300 tecken." in text_of(too_long)


async def test_anonymous_visitors_are_sent_to_sign_in(
    client: httpx.AsyncClient, services: Services
) -> None:
    event = await make_event(services, publish=False)
    for path in (
        "/organiser/events/new",
        f"/organiser/events/{event.id}",
        f"/organiser/events/{event.id}/edit",
        f"/organiser/events/{event.id}/delete",
        "/organiser/series/new",
    ):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/organiser/login?next="), path
    refused = await client.post(f"/organiser/events/{event.id}/delete", data={})
    assert refused.status_code in (303, 403)
    async with services.transaction() as session:
        assert await session.get(Event, event.id) is not None


async def test_a_series_of_a_whole_term_is_created(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in review: more than 33 dates passed the form's field cap and got a bare 400."""
    await signed_in_organiser(services, client)
    form = {
        "title": "Lunchkafé varje vecka",
        "slug": "varje-vecka",
        "capacity": "40",
        "join_url": "https://meet.example.se/vecka",
        "first_day": "2027-08-18",
        "starts": "12:00",
        "ends": "13:00",
        "every_weeks": "1",
        "count": "40",
    }
    preview = await planned(client, form)
    assert preview.status_code == 200
    ticked = ticked_in(preview)
    assert len(ticked) >= 36  # a few Swedish holidays fall on a Wednesday, unticked
    created = await client.post(
        "/organiser/series/new",
        data={"csrf_token": csrf_in(preview.text), **form, "step": "create", "dates": ticked},
    )
    assert created.status_code == 303
    async with services.transaction() as session:
        series = (await session.scalars(select(Series))).one()
        count = len(list(await session.scalars(select(Event).where(Event.series_id == series.id))))
    assert count == len(ticked)


async def test_a_copy_across_a_clock_change_keeps_its_wall_clock_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    """A café at 12.00 on the last Wednesday of summer time, copied a week later, is at
    12.00 again (normal time), not at 11.00: copies move by weeks on the wall clock."""
    await signed_in_organiser(services, client)
    starts = datetime(2027, 10, 27, 12, tzinfo=STOCKHOLM)
    original = await make_event(services, starts_at=starts, ends_at=starts + timedelta(hours=1))
    copied = await post_form(
        client,
        f"/organiser/events/{original.id}",
        f"/organiser/events/{original.id}/duplicate",
        {"weeks": "1"},
    )
    assert copied.status_code == 303
    async with services.transaction() as session:
        copy = await session.get_one(Event, event_id_of(copied))
    assert copy.starts_at.astimezone(STOCKHOLM) == datetime(2027, 11, 3, 12, tzinfo=STOCKHOLM)
    assert copy.ends_at.astimezone(STOCKHOLM) == datetime(2027, 11, 3, 13, tzinfo=STOCKHOLM)


async def test_a_series_flags_the_eves_that_are_days_off_too(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Julafton and nyårsafton are no public holidays by law, but nobody comes to a café on
    them: the planner flags them as it flags trettondedag jul, and leaves them unticked."""
    await signed_in_organiser(services, client)
    form = {
        "title": "Fredagskaféer",
        "slug": "fredagar",
        "capacity": "50",
        "join_url": "https://meet.example.se/fredag",
        "first_day": "2027-12-17",
        "starts": "12:00",
        "ends": "13:00",
        "every_weeks": "1",
        "count": "4",
    }
    preview = await planned(client, form)
    assert preview.status_code == 200
    seen = text_of(preview)
    assert "Helgdag: Julafton" in seen
    assert "Helgdag: Nyårsafton" in seen
    ticked = ticked_in(preview)
    assert ticked == ["2027-12-17", "2028-01-07"]
