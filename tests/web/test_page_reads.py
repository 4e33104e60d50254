"""Public pages under a rush: read beside the writer, in a bounded number of statements
whatever the database holds, and shared for at most a second per process, except with
whoever has just booked, who always sees their own seat counted (foundation.page_memo)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from events.models import Event, EventStatus, Series
from events.schedule import create_series
from foundation.page_memo import FRESH_COOKIE, PageMemo
from foundation.rendering import environment
from foundation.services import Services
from guide import catalogue
from guide.models import EventGuideLink
from lunchkafe.app import create_app
from tests.factories import SOON, add_confirmed, book, csrf_of, make_event
from tests.statements import statements


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def another_process(services: Services) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """A second web process on the same database, with its own pools and memo."""
    other = Services.build(services.settings)
    transport = httpx.ASGITransport(app=create_app(other.settings, other))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield other, c
    finally:
        await other.close()


async def test_seats_shown_are_never_more_than_a_second_old(
    services: Services, client: httpx.AsyncClient
) -> None:
    clock = Clock()
    services.page_memo = PageMemo(clock=clock)
    cafe = await make_event(services, capacity=20)
    pages = (f"/events/{cafe.id}", "/")
    for path in pages:
        assert "20 platser kvar" in (await client.get(path)).text
    async with another_process(services) as (other, _):
        await book(other, cafe.id, 1)

    clock.now += 0.99  # this process read the pages less than a second ago
    for path in pages:
        assert "20 platser kvar" in (await client.get(path)).text, path
    clock.now += 0.01
    for path in pages:
        assert "19 platser kvar" in (await client.get(path)).text, path


async def test_a_booker_sees_their_own_seat_whichever_process_answers(
    services: Services, client: httpx.AsyncClient
) -> None:
    services.page_memo = PageMemo(clock=Clock())  # nothing this process read expires
    cafe = await make_event(services, capacity=20)
    path = f"/events/{cafe.id}"
    assert "20 platser kvar" in (await client.get(path)).text

    async with another_process(services) as (_, booker):
        form = {
            "csrf_token": await csrf_of(booker, path),
            "name": "Anna Andersson",
            "email": "anna.andersson@kommun.example.se",
            "consent": "yes",
        }
        booked = await booker.post(f"{path}/book", data=form)
        assert booked.status_code == 303
        assert FRESH_COOKIE in booked.cookies
        # Anyone else gets what this process read a moment ago (within a second, see above),
        assert "20 platser kvar" in (await client.get(path)).text
        # but the booker's next page, answered by this process too, counts their seat.
        mine = await client.get(path, headers={"cookie": f"{FRESH_COOKIE}=1"})
    assert "19 platser kvar" in mine.text


async def test_pages_are_read_while_a_booking_holds_the_writer(
    services: Services, client: httpx.AsyncClient
) -> None:
    cafe = await make_event(services, title="Kafé om förenkling")
    async with services.transaction() as session:
        # The write lock is held now, as by a booking on its way to commit.
        await session.execute(update(Event).where(Event.id == cafe.id).values(title="Ändrat"))
        pages = [
            await asyncio.wait_for(client.get(path), timeout=10)
            for path in (f"/events/{cafe.id}", "/", "/guide")
        ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "Kafé om förenkling" in pages[0].text  # what is not committed is not shown


async def test_a_page_cannot_write(services: Services) -> None:
    async with services.transaction() as session:
        await create_series(session, slug="cafeer", title="Lunchkaféer")
    # sqlite3 and asyncpg each say it in their own words, both naming reading only.
    with pytest.raises(DBAPIError, match=r"(?i)read"):
        async with services.reading() as session:
            await session.execute(update(Series).values(title="Ändrat"))


async def add_events(services: Services, numbers: range, *, series_id: int, example_id: int) -> int:
    """Published events `numbers`, the even ones in the series, each linking the example,
    the first with three seats taken; the id of the first."""
    async with services.transaction() as session:
        added = [
            Event(
                uid=f"bulk-{n}@test.example",
                title=f"Kafé {n}",
                starts_at=SOON + timedelta(hours=n),
                ends_at=SOON + timedelta(hours=n, minutes=50),
                capacity=20,
                status=EventStatus.PUBLISHED,
                series_id=series_id if n % 2 == 0 else None,
            )
            for n in numbers
        ]
        session.add_all(added)
        await session.flush()
        session.add_all(EventGuideLink(event_id=e.id, example_id=example_id) for e in added)
    await add_confirmed(services, added[0].id, range(3))
    return added[0].id


async def test_pages_take_as_many_statements_with_1000_events_as_with_3(
    services: Services, client: httpx.AsyncClient
) -> None:
    async with services.transaction() as session:
        series = await create_series(session, slug="cafeer", title="Lunchkaféer")
        await catalogue.add_challenge(session, slug="forenkling", name="Förenkling")
        example = await catalogue.add_example(
            session,
            slug="e-tjanster",
            title="E-tjänster",
            organisation="Exempelkommun",
            summary="",
            challenge_slugs=["forenkling"],
        )
    first = await add_events(services, range(3), series_id=series.id, example_id=example.id)
    pages = ("/", f"/events/{first}", "/series/cafeer", "/guide", "/guide/e-tjanster")

    async def counted() -> dict[str, int]:
        found = {}
        for path in pages:
            services.page_memo.forget()
            with statements(services) as sent:
                assert (await client.get(path)).status_code == 200, path
            found[path] = len(sent)
        return found

    few = await counted()
    await add_events(services, range(3, 1000), series_id=series.id, example_id=example.id)
    many = await counted()
    assert many == few
    # The home page shows the calendar's first page; the rest are a link away
    # (tests/web/test_calendar_pages.py walks them).
    home = (await client.get("/")).text
    assert ">Kafé 19</a>" in home
    assert ">Kafé 20</a>" not in home
    assert 'rel="next">Senare tillfällen</a>' in home


def test_templates_are_not_checked_for_changes_on_every_page() -> None:
    # Production never edits its templates; `lunchkafe serve --reload` restarts on a change.
    assert environment("sv").auto_reload is False
