"""Small things a new attendee trips over (issue 10, item 11): a cancelled event or booking
leads on to the next dates, cancelling asks first (without JavaScript), "Boka igen" starts
from the person's own details (only behind the manage link), and the home page says where
each event is and lists them in date order."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx

from foundation.services import Services
from registrations.models import RegistrationStatus
from registrations.organising import cancel_event
from tests.factories import (
    SOON,
    book,
    csrf_in,
    make_event,
    make_series,
    person,
    registration_of,
)
from tests.signing_in import text_of


def cards(page: str) -> list[str]:
    """The titles of the event cards on a page, in the order shown."""
    return [
        unescape(title)
        for title in re.findall(
            r'<li class="event-card[^>]*>\s*<h3><a href="[^"]+">([^<]+)</a>', page
        )
    ]


def section(page: str, heading: str) -> str:
    """The HTML from the h2 named `heading` to the next h2 (or the end of main)."""
    start = page.index(f">{heading}</h2>")
    end = page.find("<h2", start)
    return page[start : end if end > 0 else page.index("</main>")]


async def test_a_cancelled_event_leads_to_the_next_dates_of_its_series(
    services: Services, client: httpx.AsyncClient
) -> None:
    first, second, third = await make_series(services, events=3)
    await make_event(services, title="Hemligt utkast", series_slug="cafeer", publish=False)
    async with services.transaction() as session:
        await cancel_event(session, first.id)
    page = await client.get(f"/events/{first.id}")
    assert "INSTÄLLT:" in page.text
    offered = section(page.text, "Nästa tillfällen")
    assert cards(offered) == ["Kafé 1", "Kafé 2"]  # never the draft, never itself
    assert f'href="/events/{second.id}"' in offered
    assert f'href="/events/{third.id}"' in offered


async def test_a_cancelled_single_event_leads_to_what_else_is_on(
    services: Services, client: httpx.AsyncClient
) -> None:
    single = await make_event(services, title="Ensam workshop")
    later = await make_event(
        services,
        title="Ett annat kafé",
        starts_at=SOON + timedelta(days=3),
        ends_at=SOON + timedelta(days=3, hours=1),
    )
    async with services.transaction() as session:
        await cancel_event(session, single.id)
    offered = section((await client.get(f"/events/{single.id}")).text, "Nästa tillfällen")
    assert cards(offered) == ["Ett annat kafé"]
    assert f'href="/events/{later.id}"' in offered


async def test_cancelling_asks_first_and_works_without_javascript(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    booked = await book(services, event.id, 1)
    manage = f"/manage/{booked.manage_token}"
    page = await client.get(manage)
    # No one-tap cancel: the manage page holds no form that cancels, only a link to ask.
    assert f'action="http://testserver{manage}/cancel"' not in page.text
    assert f'action="{manage}/cancel"' not in page.text
    assert f'href="{manage}/cancel"' in page.text
    asked = await client.get(f"{manage}/cancel")
    assert asked.status_code == 200
    assert asked.headers["cache-control"] == "private, no-store"
    assert "Vill du avboka din plats?" in text_of(asked)
    registration = await registration_of(services, event.id, person(1).email)
    assert registration.status == RegistrationStatus.CONFIRMED  # asking changed nothing
    done = await client.post(f"{manage}/cancel", data={"csrf_token": csrf_in(asked.text)})
    assert done.status_code == 303
    registration = await registration_of(services, event.id, person(1).email)
    assert registration.status == RegistrationStatus.CANCELLED


async def test_book_again_starts_from_the_persons_details_behind_the_link_only(
    services: Services, client: httpx.AsyncClient
) -> None:
    first, *_ = await make_series(services, events=3)
    booked = await book(services, first.id, 7)
    manage = f"/manage/{booked.manage_token}"
    asked = await client.get(f"{manage}/cancel")
    await client.post(f"{manage}/cancel", data={"csrf_token": csrf_in(asked.text)})
    page = (await client.get(f"{manage}?done=cancelled")).text
    again = section(page, "Boka igen")
    assert f'action="http://testserver/events/{first.id}/book"' in again or (
        f'action="/events/{first.id}/book"' in again
    )
    for value in (person(7).name, person(7).email, person(7).organisation):
        assert f'value="{value}"' in again, value
    assert 'name="consent" type="checkbox" value="yes" required' in again  # asked again
    assert " checked" not in again
    # Its next dates, after the form.
    assert cards(section(page, "Nästa tillfällen")) == ["Kafé 1", "Kafé 2"]
    # Nobody without the manage link sees the details.
    for public in (f"/events/{first.id}", f"/events/{first.id}/received", "/"):
        assert person(7).email not in (await client.get(public)).text
    # Booking from it books again, with the same address.
    form = {
        "csrf_token": csrf_in(page),
        "name": person(7).name,
        "email": person(7).email,
        "organisation": person(7).organisation,
        "municipality": "",
        "consent": "yes",
    }
    rebooked = await client.post(f"/events/{first.id}/book", data=form)
    assert rebooked.status_code == 303
    registration = await registration_of(services, first.id, person(7).email)
    assert registration.status == RegistrationStatus.CONFIRMED


async def test_the_home_page_says_where_and_lists_by_date(
    services: Services, client: httpx.AsyncClient
) -> None:
    await make_series(services, events=2)  # Kafé 0 at SOON, Kafé 1 a week later
    await make_event(
        services,
        title="Workshop i Stockholm",
        venue="Tillväxthuset, Stockholm",
        join_url=None,
        starts_at=SOON + timedelta(days=2),
        ends_at=SOON + timedelta(days=2, hours=3),
    )
    page = await client.get("/")
    listed = section(page.text, "Kalender")
    assert cards(listed) == ["Kafé 0", "Workshop i Stockholm", "Kafé 1"]
    workshop = listed[listed.index("Workshop i Stockholm") :].split("</li>")[0]
    assert "Tillväxthuset, Stockholm" in workshop
    assert "Digitalt" not in workshop
    cafe = listed[listed.index("Kafé 0") :].split("</li>")[0]
    assert "Digitalt" in cafe
    assert "Lunchkaféer" in cafe  # each card names its series
    lead = page.text[page.text.index('class="lead"') :].split("</p>")[0]
    assert "Digitala" not in lead  # not every event is online
