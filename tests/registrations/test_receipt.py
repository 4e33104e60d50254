"""The page a booking lands on: an ordinary page (post/redirect/get) that a reload, a
bookmark or a restored mobile tab opens again without booking twice, showing the address
the mail went to while the note carrying it lasts (foundation/flash.py), and nothing of
the booking itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from events.schedule import create_series
from foundation import flash
from foundation.services import Services
from lunchkafe.app import create_app
from tests.factories import SOON, csrf_of, make_event, make_series

EMAIL = "anna.andersson@kommun.example.se"


async def book(
    client: httpx.AsyncClient, path: str, csrf_from: str | None = None
) -> httpx.Response:
    """Post the booking form of `path`, its token from `csrf_from` (by default that page)."""
    form = {
        "csrf_token": await csrf_of(client, csrf_from or path),
        "name": "Anna Andersson",
        "email": EMAIL,
        "organisation": "",
        "municipality": "",
        "consent": "yes",
    }
    return await client.post(f"{path}/book", data=form)


def fresh_client(services: Services) -> httpx.AsyncClient:
    app = create_app(services.settings, services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize("kind", ["event", "series"])
async def test_the_receipt_survives_a_reload_and_shows_no_address_to_others(
    services: Services, client: httpx.AsyncClient, kind: str
) -> None:
    if kind == "event":
        path = f"/events/{(await make_event(services, title='Kafé om förenkling')).id}"
    else:
        await make_series(services, slug="cafeer", events=2)
        path = "/series/cafeer"
    booked = await book(client, path)
    assert booked.status_code == 303
    assert booked.headers["location"] == f"{path}/received"
    cookie = booked.headers["set-cookie"]
    assert cookie.startswith(f"{flash.COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=lax", f"Path={path}/received", "Max-Age=900"):
        assert attribute in cookie, attribute
    assert EMAIL not in cookie  # signed and encoded, not readable in a cookie dump

    first = await client.get(f"{path}/received")
    again = await client.get(f"{path}/received")  # a reload books nothing and reads the same
    assert first.status_code == again.status_code == 200
    assert first.text == again.text
    assert EMAIL in first.text
    assert "Titta i din e-post" in first.text

    async with fresh_client(services) as stranger:  # the URL alone shows no address
        other = await stranger.get(f"{path}/received")
    assert other.status_code == 200
    assert EMAIL not in other.text
    assert "adressen du angav" in other.text


async def test_a_forged_or_expired_note_shows_no_address(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    path = f"/events/{event.id}/received"
    forged = URLSafeTimedSerializer("not-the-secret", salt="flash").dumps("x@evil.example")
    client.cookies.set(flash.COOKIE, forged, path=path)
    assert "x@evil.example" not in (await client.get(path)).text

    class Earlier(TimestampSigner):  # signs as if MAX_AGE had passed since
        def get_timestamp(self) -> int:
            return int(time.time()) - flash.MAX_AGE - 5

    secret = services.settings.secret_key
    expired = URLSafeTimedSerializer(secret, salt="flash", signer=Earlier).dumps(EMAIL)
    client.cookies.set(flash.COOKIE, expired, path=path)
    assert EMAIL not in (await client.get(path)).text
    valid = URLSafeTimedSerializer(services.settings.secret_key, salt="flash").dumps(EMAIL)
    client.cookies.set(flash.COOKIE, valid, path=path)
    assert EMAIL in (await client.get(path)).text  # the same note, in time, is shown


async def test_a_receipt_for_a_missing_event_or_series_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/events/999999/received")).status_code == 404
    assert (await client.get("/series/finns-inte/received")).status_code == 404


async def series_receipt(services: Services, client: httpx.AsyncClient, open_events: int) -> str:
    """The receipt page of booking series `cafeer`: `open_events` open, one not yet open."""
    csrf_from = None
    if open_events:
        await make_series(services, slug="cafeer", events=open_events)
    else:
        async with services.transaction() as session:
            await create_series(session, slug="cafeer", title="Lunchkaféer")
        # The series page offers no form then; the post comes from a page opened earlier.
        csrf_from = f"/events/{(await make_event(services, title='Fristående kafé')).id}"
    await make_event(
        services,
        title="Kafé som inte öppnat",
        series_slug="cafeer",
        starts_at=SOON + timedelta(days=30),
        ends_at=SOON + timedelta(days=30, hours=1),
        registration_opens_at=SOON + timedelta(days=20),
    )
    booked = await book(client, "/series/cafeer", csrf_from)
    return (await client.get(booked.headers["location"])).text


async def test_a_series_receipt_lists_what_could_not_be_booked_and_why(
    services: Services, client: httpx.AsyncClient
) -> None:
    page = await series_receipt(services, client, open_events=1)
    assert "Tack! Titta i din e-post" in page
    assert "Gick inte att boka" in page
    assert "Kafé som inte öppnat" in page


async def test_a_series_with_nothing_to_book_thanks_nobody(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in review: the page thanked for a booking and promised mail when every event
    was closed. Which events are closed is public, so this tells nothing of the address."""
    page = await series_receipt(services, client, open_events=0)
    assert "Inget att boka" in page
    assert "Tack!" not in page
    assert "vi skickar inget mejl" in page
    assert "Kafé som inte öppnat" in page


async def test_a_receipt_showing_an_address_is_kept_by_no_cache(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    booked = await book(client, f"/events/{event.id}")
    shown = await client.get(booked.headers["location"])
    assert EMAIL in shown.text
    assert shown.headers["cache-control"] == "private, no-store"


async def test_the_series_page_offers_booking_only_when_booking_would_book(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in review (issue 8): the page offered the form for a café already under way,
    which the series booking then skipped without a word. One definition now serves the
    page, the booking and its receipt (registrations.booking.series_bookability)."""
    async with services.transaction() as session:
        await create_series(session, slug="cafeer", title="Lunchkaféer")
    now = datetime.now(UTC)
    await make_event(
        services,
        title="Kafé som pågår",
        series_slug="cafeer",
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=50),
    )
    page = (await client.get("/series/cafeer")).text
    assert "Kafé som pågår" in page
    assert "Boka alla tillfällen" not in page

    await make_event(services, title="Kafé nästa vecka", series_slug="cafeer")
    assert "Boka alla tillfällen" in (await client.get("/series/cafeer")).text
    booked = await book(client, "/series/cafeer")
    receipt_page = (await client.get(booked.headers["location"])).text
    assert "Kafé nästa vecka" in receipt_page
    assert "Kafé som pågår" not in receipt_page
