"""The personal feed and the attendee's own .ics, over real HTTP on SQLite and PostgreSQL.

Only the person's confirmed bookings, with the join link and no manage links, behind a
revocable token of 256 bits that reaches the person only by mail; read by the same four
parsers as the public feeds (tests/calendars.py, tests/feeds.py).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
from sqlalchemy import select

from events.entries import attendee_entry
from events.models import Event
from foundation.services import Services
from mail.mailbox import LocalMailbox
from notices.delivery import deliver_due
from registrations import booking
from registrations.booking import BookingResult
from registrations.models import Registration
from registrations.organising import cancel_event
from tests.calendars import Parsers
from tests.conftest import SECRET
from tests.factories import csrf_in, make_event, person
from tests.feeds import (
    BASE,
    SERIES,
    TIMES,
    assert_conditional_http,
    assert_read_everywhere,
    assert_subscribe_links,
    calendar_file,
    event_url,
    fetch,
    hrefs,
    make_times_series,
    read,
)

FEED_PAGE = re.compile(r"http://testserver/feeds/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_.-])")


async def book(services: Services, event: Event, n: int) -> BookingResult:
    async with services.transaction() as session:
        return await booking.book(session, event_id=event.id, attendee=person(n), secret_key=SECRET)


async def cancel(services: Services, result: BookingResult) -> None:
    assert result.manage_token is not None, "a new booking has a manage link"
    async with services.transaction() as session:
        await booking.cancel(session, token=result.manage_token)


async def manage_page(client: httpx.AsyncClient, result: BookingResult) -> str:
    response = await client.get(f"/manage/{result.manage_token}")
    assert response.status_code == 200
    return response.text


async def mailed_feed_token(services: Services, email: str) -> str:
    """The token as the attendee finds it: in the newest mail to the address (delivered to
    the local mailbox), where the link opens the personal calendar's page."""
    await deliver_due(services)
    mailbox = LocalMailbox(services.settings.mailbox_dir)
    for entry in mailbox.list():  # newest first
        if email in entry.to:
            message = mailbox.get(entry.id)
            assert message is not None
            body = message.get_body(("plain",))
            assert body is not None
            tokens = set(FEED_PAGE.findall(body.get_content()))
            assert len(tokens) == 1, tokens
            return str(tokens.pop())
    raise AssertionError(f"no mail to {email}")


async def personal_feed_token(services: Services, result: BookingResult) -> str:
    return await mailed_feed_token(services, result.registration.email)


async def age_all_changes(services: Services, by: timedelta = timedelta(minutes=5)) -> None:
    """Move every change back, so that the next one falls in a later second than the
    Last-Modified a client holds (HTTP dates have whole seconds)."""
    async with services.transaction() as session:
        for event in await session.scalars(select(Event)):
            event.updated_at -= by
        for registration in await session.scalars(select(Registration)):
            registration.updated_at -= by


async def current(services: Services, event: Event) -> Event:
    async with services.transaction() as session:
        found = await session.get(Event, event.id)
        assert found is not None
        return found


# === 1. the personal feed and the attendee's .ics, every parser ============================


async def test_personal_files_read_the_same_everywhere(
    services: Services, client: httpx.AsyncClient, parsers: Parsers
) -> None:
    events = await make_times_series(services)
    results = [await book(services, event, 1) for event, _ in events]
    token = await personal_feed_token(services, results[0])
    expected = {}
    files = []
    for (event, when), result in zip(events, results, strict=True):
        assert result.confirmed
        # One person's download: its links open in the language they booked in.
        manage_url = f"{BASE}/manage/{result.manage_token}?lang=sv"
        entry = attendee_entry(
            await current(services, event),
            event_url=f"{event_url(event)}?lang=sv",
            manage_url=manage_url,
            sequence=event.sequence + result.registration.sequence_bump,
        )
        assert event.join_url is not None
        assert entry.location == event.join_url
        assert f"Anslut till mötet: {event.join_url}" in entry.description
        assert manage_url in entry.description
        # The feed spans all of a person's bookings and gets shared: no manage links in it.
        in_feed = attendee_entry(
            await current(services, event),
            event_url=event_url(event),
            sequence=event.sequence + result.registration.sequence_bump,
        )
        assert "/manage/" not in in_feed.description
        expected[event.uid] = (in_feed, when)
        response = await calendar_file(client, f"/manage/{result.manage_token}/event.ics")
        files.append((response.content, {event.uid: (entry, when)}))
    feed = await calendar_file(client, f"/feeds/{token}.ics")
    assert "X-WR-CALNAME:Lunchkafé: mina bokningar" in feed.text.replace("\r\n ", "")
    files.append((feed.content, expected))
    assert_read_everywhere(parsers, files)


# === 5. only one's own confirmed bookings; the token; revoking it ==========================


async def test_personal_feed_holds_only_own_confirmed_bookings(
    services: Services, client: httpx.AsyncClient
) -> None:
    mine = await make_event(services, title="Min plats", join_url="https://meet.example.se/a")
    full = await make_event(
        services, title="Fullt", capacity=1, join_url="https://meet.example.se/b"
    )
    left = await make_event(services, title="Avbokad", join_url="https://meet.example.se/c")
    called_off = await make_event(services, title="Inställd", join_url="https://meet.example.se/d")
    theirs = await make_event(services, title="Någon annans", join_url="https://meet.example.se/e")
    own = await book(services, mine, 1)
    second_persons = await book(services, full, 2)
    waiting = await book(services, full, 1)
    assert not waiting.confirmed
    await cancel(services, await book(services, left, 1))
    await book(services, called_off, 1)
    async with services.transaction() as session:
        await cancel_event(session, called_off.id)
    await book(services, theirs, 2)
    # Another address of the same person is another person to the site.
    await book(services, theirs, 3)

    token = await personal_feed_token(services, own)
    feed = await calendar_file(client, f"/feeds/{token}.ics")
    assert list(read(feed.content)) == [mine.uid]
    body = feed.content.decode().replace("\r\n ", "")
    assert "LOCATION:https://meet.example.se/a" in body
    assert "Anslut till mötet: https://meet.example.se/a" in body
    for other in "bcde":
        assert f"https://meet.example.se/{other}" not in body
    assert "ATTENDEE" not in body
    assert "ORGANIZER" not in body
    assert "person1@" not in body
    assert "METHOD" not in body  # a subscription, not an iTIP message
    assert "/manage/" not in body

    # Person 2's feed is theirs alone.
    other_token = await personal_feed_token(services, second_persons)
    assert other_token != token
    other_feed = await calendar_file(client, f"/feeds/{other_token}.ics")
    assert sorted(read(other_feed.content)) == sorted([full.uid, theirs.uid])


async def test_feed_token_is_unguessable_and_unknown_ones_are_not_found(
    services: Services, client: httpx.AsyncClient
) -> None:
    result = await book(services, await make_event(services), 1)
    token = await personal_feed_token(services, result)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 == 256  # at least 128 bits
    assert (await fetch(client, f"/feeds/{token}.ics")).status_code == 200
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in (
        flipped,  # the right shape, not a feed
        result.manage_token,  # a manage token is not a feed token
        "x" * 43,
        "garbage",
        token + "x",
        "../" + token,
        "%00" * 10,
    ):
        response = await fetch(client, f"/feeds/{bad}.ics")
        assert response.status_code == 404, bad
        assert "BEGIN:VCALENDAR" not in response.text
        page = await fetch(client, f"/feeds/{bad}")
        assert page.status_code == 404, bad
        assert "Byt adress" not in page.text
    assert (await fetch(client, f"/manage/{'x' * 43}/event.ics")).status_code == 404


async def test_replacing_the_address_from_the_calendar_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    result = await book(services, await make_event(services), 1)
    old = await personal_feed_token(services, result)
    page = await client.get(f"/feeds/{old}")  # the page the mailed link opens
    assert page.status_code == 200
    old_feed = await calendar_file(client, f"/feeds/{old}.ics")
    csrf_token = csrf_in(page.text)
    replace = f"/feeds/{old}/replace"
    assert f'action="{replace}"' in page.text

    # Without the form's token nothing changes.
    assert (await client.post(replace, data={})).status_code == 403
    assert (await client.post(replace, data={"csrf_token": "forged"})).status_code == 403
    assert (await fetch(client, f"/feeds/{old}.ics")).status_code == 200

    response = await client.post(replace, data={"csrf_token": csrf_token})
    assert response.status_code == 303
    assert response.headers["location"] == f"{BASE}/feeds/replaced"
    assert (await fetch(client, f"/feeds/{old}.ics")).status_code == 404
    assert (await fetch(client, f"/feeds/{old}.ics", "HEAD")).status_code == 404
    assert (await fetch(client, f"/feeds/{old}")).status_code == 404
    # Pressing again with the old page does nothing more.
    assert (await client.post(replace, data={"csrf_token": csrf_token})).status_code == 404
    new = await personal_feed_token(services, result)  # from the mail it sent
    assert new != old
    assert new not in (await client.get("/feeds/replaced")).text
    new_feed = await calendar_file(client, f"/feeds/{new}.ics")
    assert list(read(new_feed.content)) == list(read(old_feed.content))
    # The manage link itself is untouched.
    assert (await fetch(client, f"/manage/{result.manage_token}/event.ics")).status_code == 200


# === 4. conditional HTTP, and Last-Modified that never goes back ===========================


async def test_personal_files_are_private_and_conditional(
    services: Services, client: httpx.AsyncClient
) -> None:
    result = await book(services, await make_event(services), 1)
    token = await personal_feed_token(services, result)
    await assert_conditional_http(client, f"/feeds/{token}.ics", private=True)
    await assert_conditional_http(client, f"/manage/{result.manage_token}/event.ics", private=True)


async def test_a_calendar_revalidating_by_date_sees_a_booking_leave(
    services: Services, client: httpx.AsyncClient
) -> None:
    """A client that sends only If-Modified-Since must not get 304 after a change, even
    when the change removes the most recently changed booking from the feed."""
    first = await book(services, await make_event(services, title="Första"), 1)
    second = await book(services, await make_event(services, title="Andra"), 1)
    token = await personal_feed_token(services, first)
    url = f"/feeds/{token}.ics"
    changes: tuple[Callable[[], Awaitable[None]], ...] = (
        lambda: cancel(services, second),
        lambda: cancel_event_now(services, first.registration.event_id),
    )
    for change in changes:
        await age_all_changes(services)
        held = await calendar_file(client, url)
        since = held.headers["last-modified"]
        await change()
        response = await fetch(client, url, if_modified_since=since)
        assert response.status_code == 200
        assert response.content != held.content
        assert parsedate_to_datetime(response.headers["last-modified"]) >= parsedate_to_datetime(
            since
        )
    assert read((await calendar_file(client, url)).content) == {}


async def cancel_event_now(services: Services, event_id: int) -> None:
    async with services.transaction() as session:
        await cancel_event(session, event_id)


async def test_the_attendee_ics_changes_date_when_a_waitlisted_seat_is_confirmed(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=1)
    seated = await book(services, event, 1)
    waiting = await book(services, event, 2)
    url = f"/manage/{waiting.manage_token}/event.ics"
    await age_all_changes(services)
    held = await calendar_file(client, url)
    assert b"meet.example.se" not in held.content  # no join link while waiting
    await cancel(services, seated)  # the seat goes to the first in line
    since = parsedate_to_datetime(held.headers["last-modified"])
    response = await fetch(client, url, if_modified_since=format_datetime(since, usegmt=True))
    assert response.status_code == 200
    assert b"https://meet.example.se/secret-room" in response.content


# === 6. the manage page links to its own .ics; the mailed page to the personal feed ========


async def test_manage_and_calendar_page_links(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await make_times_series(services)
    event, _ = events[0]
    result = await book(services, event, 1)
    page = await manage_page(client, result)
    ics = f"/manage/{result.manage_token}/event.ics"  # a page link is a path on the site
    assert ics in hrefs(page)
    assert not [h for h in hrefs(page) if "/feeds/" in h]
    downloaded = await calendar_file(client, ics)
    assert list(read(downloaded.content)) == [event.uid]
    assert downloaded.headers["content-disposition"] == (
        f'attachment; filename="lunchkafe-{event.id}.ics"'
    )
    assert len(TIMES) == len(events)

    token = await personal_feed_token(services, result)
    calendar_page = await client.get(f"/feeds/{token}")
    assert calendar_page.status_code == 200
    assert "no-store" in calendar_page.headers["cache-control"]
    assert_subscribe_links(
        calendar_page.text, f"{BASE}/feeds/{token}.ics", "Lunchkafé: mina bokningar"
    )
    assert len(read((await calendar_file(client, f"{BASE}/feeds/{token}.ics")).content)) == 1

    # Someone on the waitlist sees their place, and no calendar links either.
    full = await make_event(services, title="Fullt", capacity=1, series_slug=SERIES)
    await book(services, full, 2)
    waiting = await book(services, full, 3)
    assert not FEED_PAGE.search(await manage_page(client, waiting))
