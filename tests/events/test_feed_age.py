"""Every calendar URL tells the truth about its age, and satisfies RFC 5546 for its METHOD.

Issue 10 item 8: the public, series and personal feeds and both single-event downloads,
over real HTTP on SQLite and PostgreSQL. Whenever a file's bytes change, its Last-Modified
moves forward, also when an event leaves a feed by time alone or by going back to a draft,
so a client that revalidates with If-Modified-Since only sees the change. And libical's
RFC 5546 restriction tables (`icalrestriction_check`) pass on every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events import schedule
from events.feeds import PAST_KEPT
from events.models import Event, Series
from events.schedule import create_series
from events.series_upkeep import update_series
from foundation.services import Services
from foundation.timestamps import utcnow
from registrations import booking
from registrations.feeds import feed_for, feed_token
from registrations.models import Registration
from registrations.organising import update_event
from registrations.waitlist import seat_counts
from tests.calendars import LibIcal
from tests.conftest import SECRET
from tests.factories import make_event, person
from tests.feeds import calendar_file, fetch

SLUG = "aldern"


@dataclass(frozen=True)
class Urls:
    public: list[str]
    private: list[str]

    @property
    def every(self) -> list[str]:
        return self.public + self.private


@dataclass(frozen=True)
class World:
    urls: Urls
    future: Event  # booked, in the series, far from any window's edge
    ageing: Event  # booked, in the series, ended just inside PAST_KEPT
    loose: Event  # in the series, nobody booked: can go back to a draft


async def _world(services: Services) -> World:
    now = utcnow()
    async with services.transaction() as session:
        await create_series(session, slug=SLUG, title="Ålderns kaféer")
    future = await make_event(
        services,
        title="Framtid",
        series_slug=SLUG,
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=1),
    )
    ageing = await make_event(
        services,
        title="Snart borta",
        series_slug=SLUG,
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=1),
    )
    loose = await make_event(
        services,
        title="Tillbaka till utkast",
        series_slug=SLUG,
        starts_at=now + timedelta(days=20),
        ends_at=now + timedelta(days=20, hours=1),
    )
    async with services.transaction() as session:
        booked = await booking.book(
            session, event_id=future.id, attendee=person(1), secret_key=SECRET
        )
        await booking.book(session, event_id=ageing.id, attendee=person(1), secret_key=SECRET)
        token = feed_token(
            await feed_for(session, booked.registration.email_normalised, SECRET), SECRET
        )
    # The booking was made before the event "ended": move it to just inside the window.
    ended = now - PAST_KEPT + timedelta(minutes=10)
    async with services.transaction() as session:
        await session.execute(
            update(Event)
            .where(Event.id == ageing.id)
            .values(starts_at=ended - timedelta(hours=1), ends_at=ended)
        )
        session.info["events_changed"] = True
    await _age_every_change(services)
    assert booked.manage_token is not None
    return World(
        Urls(
            public=[
                "/calendar.ics",
                f"/series/{SLUG}/calendar.ics",
                f"/events/{future.id}/event.ics",
            ],
            private=[f"/feeds/{token}.ics", f"/manage/{booked.manage_token}/event.ics"],
        ),
        future,
        ageing,
        loose,
    )


async def _age_every_change(services: Services, by: timedelta = timedelta(hours=1)) -> None:
    """Every stamp an hour back, so the next change falls in a later HTTP-date second."""
    async with services.transaction() as session:
        for event in await session.scalars(select(Event)):
            event.updated_at -= by
        for registration in await session.scalars(select(Registration)):
            registration.updated_at -= by
        for series in await session.scalars(select(Series)):
            series.updated_at -= by
        session.info["events_changed"] = True


async def _active(session: AsyncSession, event_id: int) -> int:
    confirmed, waitlisted = (await seat_counts(session, [event_id]))[event_id]
    return confirmed + waitlisted


async def _snapshot(client: httpx.AsyncClient, urls: list[str]) -> dict[str, httpx.Response]:
    return {url: await calendar_file(client, url) for url in urls}


def _modified(response: httpx.Response) -> datetime:
    return parsedate_to_datetime(response.headers["last-modified"])


async def _assert_truthful(
    client: httpx.AsyncClient,
    before: dict[str, httpx.Response],
    changed: set[str],
) -> dict[str, httpx.Response]:
    """Each URL in `changed` has new bytes and a later Last-Modified, and a client holding
    only the old date gets the new file; the others are byte for byte as they were."""
    after = await _snapshot(client, list(before))
    faults = []
    for url, old in before.items():
        new = after[url]
        if url not in changed:
            if new.content != old.content:
                faults.append(f"{url}: the bytes changed")
            continue
        if new.content == old.content or new.headers["etag"] == old.headers["etag"]:
            faults.append(f"{url}: the bytes did not change")
        elif _modified(new) <= _modified(old):
            faults.append(f"{url}: Last-Modified stayed at {old.headers['last-modified']}")
        else:
            by_date = await fetch(client, url, if_modified_since=old.headers["last-modified"])
            if by_date.status_code != 200 or by_date.content != new.content:
                faults.append(f"{url}: If-Modified-Since gave {by_date.status_code}")
    assert not faults, "\n".join(faults)
    return after


async def test_last_modified_moves_whenever_the_bytes_do(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await _world(services)
    urls = world.urls
    feeds = {urls.public[0], urls.public[1], urls.private[0]}
    before = await _snapshot(client, urls.every)
    for url in feeds:
        assert b"Snart borta" in before[url].content, url

    # Time alone: the ended event passes PAST_KEPT (ten minutes ago, after every stamp) and
    # leaves every feed; no row's stamp changes.
    async with services.transaction() as session:
        row = await session.get_one(Event, world.ageing.id)
        row.starts_at -= timedelta(minutes=20)
        row.ends_at -= timedelta(minutes=20)
        session.info["events_changed"] = True
    after = await _assert_truthful(client, before, feeds)
    for url in feeds:
        assert b"Snart borta" not in after[url].content, url

    # Back to a draft: the event leaves the public and series feeds.
    async with services.transaction() as session:
        await schedule.unpublish_event(session, world.loose.id, count_registrations=_active)
    after = await _assert_truthful(client, after, {urls.public[0], urls.public[1]})

    # A change to the booked event: every file that shows it.
    await _age_every_change(services)
    after = await _snapshot(client, urls.every)
    async with services.transaction() as session:
        await update_event(session, world.future.id, schedule.EventChanges(title="Framtid, ny"))
    after = await _assert_truthful(client, after, set(urls.every))

    # The series renamed: its title is the series feed's name, and only that feed changes.
    await _age_every_change(services)
    after = await _snapshot(client, urls.every)
    async with services.transaction() as session:
        series = await session.scalar(select(Series).where(Series.slug == SLUG))
        assert series is not None
        await update_series(
            session,
            series.id,
            title="Ålderns vårkaféer",
            summary="",
            description="",
            host="",
            reminder_offsets=None,
        )
    after = await _assert_truthful(client, after, {urls.public[1]})
    unfolded = after[urls.public[1]].content.replace(b"\r\n ", b"")  # RFC 5545 3.1
    assert "NAME:Lunchkafé: Ålderns vårkaféer".encode() in unfolded


async def test_every_calendar_url_passes_the_rfc_5546_tables(
    services: Services, client: httpx.AsyncClient, libical: LibIcal
) -> None:
    world = await _world(services)
    for url in world.urls.every:
        body = (await calendar_file(client, url)).content
        with libical.parse(body) as root:
            assert libical.lib.icalrestriction_check(root) == 1, (url, libical.errors(root))
            assert libical.errors(root) == [], url


async def test_a_deleted_draft_never_takes_a_feeds_date_back(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Published, served, taken back to a draft and deleted: the row that held the feed's
    latest stamp is gone, yet a client holding the date it was served with must get the
    feed without it, not a 304 that keeps the event in its calendar."""
    world = await _world(services)
    feeds = [world.urls.public[0], world.urls.public[1]]
    async with services.transaction() as session:
        row = await session.get_one(Event, world.loose.id)
        # The latest change of all, in an earlier second: the feeds are dated by it.
        row.updated_at = utcnow() - timedelta(minutes=30)
        session.info["events_changed"] = True
    served = await _snapshot(client, feeds)
    for url in feeds:
        assert b"Tillbaka till utkast" in served[url].content, url
    async with services.transaction() as session:
        await schedule.unpublish_event(session, world.loose.id, count_registrations=_active)
        await schedule.delete_draft(session, world.loose.id)
    for url in feeds:
        now = await calendar_file(client, url)
        assert b"Tillbaka till utkast" not in now.content, url
        assert _modified(now) >= _modified(served[url]), url
        by_date = await fetch(client, url, if_modified_since=served[url].headers["last-modified"])
        assert by_date.status_code == 200, url
