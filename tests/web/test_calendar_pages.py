"""The home page's calendar in pages (issue 11, item 5): a bounded number of events and of
statements whatever the number of upcoming events, the next page after the last event
shown, seats read off the event's counters, and a page address that is no place in the
calendar answered with its first page, never an error."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from events.models import Event, EventStatus
from events.schedule import create_series
from foundation.services import Services
from guide import catalogue
from guide.models import EventGuideLink, GuideExample
from lunchkafe.demo import load_demo
from registrations.overviews import CALENDAR_PAGE
from tests.factories import SOON, add_confirmed, book, cancel
from tests.statements import statements

TITLE = re.compile(r'<h3><a href="/events/\d+">([^<]+)</a></h3>')
LATER = re.compile(r'<a href="([^"]+)" rel="next">Senare tillfällen</a>')
FIRST = re.compile(r'<a href="([^"]+)">Till de närmaste tillfällena</a>')


async def add_events(
    services: Services,
    numbers: range,
    *,
    series_slug: str | None = None,
    example_id: int | None = None,
    hours: int = 1,
) -> list[int]:
    """Published events "Kafé n", `hours` apart from SOON (0: all at once), every other
    one in the series, each linking the example; their ids."""
    async with services.transaction() as session:
        series_id = None
        if series_slug is not None:
            series_id = (await create_series(session, slug=series_slug, title="Kaféer")).id
        added = [
            Event(
                uid=f"bulk-{n}@test.example",
                title=f"Kafé {n}",
                starts_at=SOON + timedelta(hours=hours * n),
                ends_at=SOON + timedelta(hours=hours * n, minutes=50),
                capacity=20,
                status=EventStatus.PUBLISHED,
                series_id=series_id if n % 2 == 0 else None,
            )
            for n in numbers
        ]
        session.add_all(added)
        await session.flush()
        if example_id is not None:
            session.add_all(EventGuideLink(event_id=e.id, example_id=example_id) for e in added)
    return [e.id for e in added]


def titles(page: httpx.Response) -> list[str]:
    assert page.status_code == 200
    return [html.unescape(t) for t in TITLE.findall(page.text)]


def later(page: httpx.Response) -> str | None:
    found = LATER.search(page.text)
    return html.unescape(found.group(1)) if found else None


def back_to_first(page: httpx.Response) -> str | None:
    found = FIRST.search(page.text)
    return html.unescape(found.group(1)) if found else None


async def walk(client: httpx.AsyncClient, path: str) -> list[list[str]]:
    """The titles on each page of the calendar from `path`, following "Senare tillfällen"."""
    pages: list[list[str]] = []
    next_path: str | None = path
    while next_path is not None:
        assert len(pages) < 100, "the pages never end"
        page = await client.get(next_path)
        pages.append(titles(page))
        next_path = later(page)
    return pages


async def test_the_home_page_costs_as_much_with_1000_events_as_at_demo_size(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.reading() as session:
        example = await session.scalar(
            select(GuideExample)
            .options(selectinload(GuideExample.challenges))
            .where(GuideExample.challenges.any())
            .limit(1)
        )
        assert example is not None
        challenge = example.challenges[0].slug

    paths = ("/", f"/?challenge={challenge}")

    async def counted() -> dict[str, tuple[int, int]]:
        found = {}
        for path in paths:
            services.page_memo.forget()
            with statements(services) as sent:
                page = await client.get(path)
            assert page.status_code == 200, path
            # No statement reads the registrations: the seats are the event's counters.
            assert not [s for s in sent if re.search(r"\bregistrations\b", s)], path
            found[path] = (len(sent), len(titles(page)))
        return found

    demo = await counted()
    ids = await add_events(
        services, range(1000), series_slug="bulk", example_id=example.id, hours=0
    )
    await add_confirmed(services, ids[0], range(100))
    full = await counted()
    assert {path: sent for path, (sent, _) in full.items()} == {
        path: sent for path, (sent, _) in demo.items()
    }
    assert all(shown == CALENDAR_PAGE for _, shown in full.values())


async def test_the_next_page_shows_the_events_after_the_first(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_events(services, range(2 * CALENDAR_PAGE + 5), series_slug="cafeer")
    pages = await walk(client, "/")

    assert pages == [
        [f"Kafé {n}" for n in range(0, CALENDAR_PAGE)],
        [f"Kafé {n}" for n in range(CALENDAR_PAGE, 2 * CALENDAR_PAGE)],
        [f"Kafé {n}" for n in range(2 * CALENDAR_PAGE, 2 * CALENDAR_PAGE + 5)],
    ]
    first = await client.get("/")
    assert back_to_first(first) is None
    # The series are listed once, above the first page, with how many dates they have.
    assert 'Kaféer</a> <span class="dates">(23 kommande tillfällen)</span>' in first.text
    second = await client.get(later(first) or "")
    assert "<title>Senare tillfällen – Kommande" in second.text
    assert "series-list" not in second.text
    assert back_to_first(second) == "/"

    english = await client.get(f"{later(first)}&lang=en")
    assert "<title>Later dates – Upcoming" in english.text
    assert "Back to the soonest dates" in english.text
    assert 'aria-label="Pages of the calendar"' in english.text
    assert "(23 upcoming dates)" in (await client.get("/?lang=en")).text


async def test_events_at_the_same_time_are_paged_by_id_without_a_gap(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_events(services, range(CALENDAR_PAGE + 3), hours=0)
    pages = await walk(client, "/")
    shown = [title for page in pages for title in page]
    assert [len(page) for page in pages] == [CALENDAR_PAGE, 3]
    assert sorted(shown) == sorted(f"Kafé {n}" for n in range(CALENDAR_PAGE + 3))


async def test_the_pages_keep_the_chosen_challenge(
    services: Services, client: httpx.AsyncClient
) -> None:
    async with services.transaction() as session:
        await catalogue.add_challenge(session, slug="forenkling", name="Förenkling")
        example = await catalogue.add_example(
            session,
            slug="e-tjanster",
            title="E-tjänster",
            organisation="Exempelkommun",
            summary="",
            challenge_slugs=["forenkling"],
        )
    # The even ones are filed under the challenge, through the example they link.
    filed = await add_events(services, range(0, 4 * CALENDAR_PAGE, 2), example_id=example.id)
    await add_events(services, range(1, 4 * CALENDAR_PAGE, 2))
    assert len(filed) == 2 * CALENDAR_PAGE

    pages = await walk(client, "/?challenge=forenkling")
    assert [len(page) for page in pages] == [CALENDAR_PAGE, CALENDAR_PAGE]
    assert [title for page in pages for title in page] == [
        f"Kafé {n}" for n in range(0, 4 * CALENDAR_PAGE, 2)
    ]
    second = await client.get(later(await client.get("/?challenge=forenkling")) or "")
    assert back_to_first(second) == "/?challenge=forenkling"
    assert 'value="forenkling" selected' in second.text


async def test_the_seats_shown_are_the_events_counters(
    services: Services, client: httpx.AsyncClient
) -> None:
    [cafe] = await add_events(services, range(1))
    await book(services, cafe, 1)
    booked = await book(services, cafe, 2)
    await cancel(services, booked.manage_token)
    for path in ("/", f"/events/{cafe}"):
        services.page_memo.forget()
        assert "19 platser kvar" in (await client.get(path)).text, path


@pytest.mark.parametrize(
    "place",
    [
        "x",
        ",",
        "1",
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:00:00Z,0",
        "2026-12-01T10:00:00Z,01",
        "2026-12-01T10:00:00Z,2147483648",
        "2026-12-01T10:00:00Z,99999999999999999999999",
        "2026-12-01T10:00:00,5",  # no zone
        "2026-13-01T10:00:00Z,5",
        "9999-12-31T23:59:59-23:59,5",
        "nan,5",
        "2026-12-01T10:00:00Z,5" + "0" * 5000,
        "\x00,5",
    ],
)
async def test_a_page_address_that_is_no_place_shows_the_first_page(
    services: Services, client: httpx.AsyncClient, place: str
) -> None:
    await add_events(services, range(CALENDAR_PAGE + 1))
    page = await client.get("/", params={"efter": place})
    assert titles(page) == [f"Kafé {n}" for n in range(CALENDAR_PAGE)]
    assert back_to_first(page) is None


async def test_a_place_after_the_last_event_says_there_are_no_more(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_events(services, range(3))
    page = await client.get("/", params={"efter": "9999-12-31T00:00:00Z,1"})
    assert titles(page) == []
    assert "Det finns inga fler kommande tillfällen." in page.text
    assert back_to_first(page) == "/"
    assert later(page) is None
