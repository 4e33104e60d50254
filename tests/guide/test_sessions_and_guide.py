"""Sessions and the guide, both ways (issue 12 item 5): an event page leads to its examples
and methods, the guide's pages lead to the sessions (test_catalogue_pages.py), the follow-up
mail names whom to call, the home page files events under challenges, and an organiser is
offered examples that fit."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from html import unescape

import httpx
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from foundation.timestamps import utcnow
from guide.catalogue import link_example
from lunchkafe.demo import load_demo
from notices.delivery import DeliveryReport
from registrations import booking
from registrations.reminders import create_due_follow_ups
from tests.conftest import SECRET, Mail
from tests.factories import make_event, person
from tests.signing_in import signed_in_client

WORKSHOP = "Platsutveckling i sex steg – från förankring till långsiktig organisering"
TIP_CAFE = "Levande landsbygder: planering som håller ihop"


def text_of(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def event_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/events/(\d+)"', html)}


async def demo_events(services: Services) -> dict[str, int]:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        return {e.title: e.id for e in (await session.scalars(select(Event))).all()}


async def test_the_event_page_leads_to_its_examples_and_methods_with_why(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await demo_events(services)
    workshop = await client.get(f"/events/{events[WORKSHOP]}")
    text = text_of(workshop.text)
    assert 'href="/guide/processes/platsutveckling-i-sex-steg"' in workshop.text
    assert "Metoder ur Utvecklingsguiden Platsutveckling i sex steg " in text
    assert "Workshoppen följer metodens sex steg." in text
    assert 'href="/guide/vgr-lokala-processledare"' in workshop.text
    assert "Förankring genom dialog." in text

    cafe = await client.get(f"/events/{events[TIP_CAFE]}")
    assert 'href="/guide/tips/hitta-gemensamma-mal-och-resurser"' in cafe.text
    assert "2. Hitta gemensamma mål och resurser" in text_of(cafe.text)
    assert "Samma mål över kommungränserna." in text_of(cafe.text)


async def test_the_home_page_shows_and_filters_by_the_events_challenges(
    services: Services, client: httpx.AsyncClient
) -> None:
    events = await demo_events(services)
    unfiled = await make_event(
        services,
        title="Öppet samtal utan exempel",
        starts_at=utcnow() + timedelta(days=3),
        ends_at=utcnow() + timedelta(days=3, hours=1),
    )
    home = await client.get("/")
    assert {events[WORKSHOP], unfiled.id} <= event_links(home.text)
    card = home.text[home.text.index(f'href="/events/{events[WORKSHOP]}"') :]
    card = card[: card.index("</li>")]
    # The workshop's challenges come from its process and examples.
    assert re.search(r"Utmaningar:.*Lokal utveckling", unescape(card), re.S)
    assert 'href="/?challenge=lokal-utveckling"' in card
    assert '<option value="lokal-utveckling"' in home.text

    filtered = await client.get("/", params={"challenge": "lokal-utveckling"})
    assert filtered.status_code == 200
    shown = event_links(filtered.text)
    assert events[WORKSHOP] in shown
    assert unfiled.id not in shown  # it links nothing, so it is filed under nothing
    assert re.search(r'<option value="lokal-utveckling"\s+selected', filtered.text)
    # A challenge no upcoming event has shows everything.
    assert unfiled.id in event_links((await client.get("/?challenge=finns-inte")).text)


async def test_the_follow_up_names_whom_to_call_in_the_recipients_language(mail: Mail) -> None:
    services = mail.services
    starts = utcnow().replace(microsecond=0) - timedelta(hours=4)
    await load_demo(services, only_if_empty=False)
    event = await make_event(services, starts_at=starts, ends_at=starts + timedelta(hours=1))
    async with services.transaction() as session:
        await link_example(
            session, event_id=event.id, example_slug="sormland-strukturbild", note="Läs först."
        )
        for n, language in ((1, "sv"), (2, "en")):
            await booking.book(
                session,
                event_id=event.id,
                attendee=person(n, language=language),
                secret_key=SECRET,
                now=starts - timedelta(days=1),
            )
    await mail.deliver()
    mail.clear()
    async with services.transaction() as session:
        assert await create_due_follow_ups(session, now=utcnow(), after=timedelta(hours=2)) == 2
    assert await mail.deliver() == DeliveryReport(sent=2)

    swedish = mail.only(person(1).email)
    text = swedish.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = swedish.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "- Strukturbild för regional planering (Region Sörmland): " in text
    assert "Kontakt: Maja Lindgren, Regional planerare" in text
    assert "E-post: regional.planering@example.se" in text
    assert "Telefon: 016-123 45 67" in text
    assert 'href="mailto:regional.planering@example.se"' in html
    assert 'href="tel:016-1234567"' in html
    assert html.count("Strukturbild för regional planering") == 1  # listed once, with whom

    english = mail.only(person(2).email)
    text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Contact: Maja Lindgren, Regional planerare" in text
    assert "Phone: 016-123 45 67" in text
    assert "sormland-strukturbild?lang=en" in text


async def test_the_organiser_is_offered_examples_that_fit_the_event(services: Services) -> None:
    await load_demo(services, only_if_empty=False)
    event = await make_event(
        services,
        title="Strukturbild och pendling i regional planering",
        summary="Hur en gemensam bild av regionen gör planeringen lättare.",
    )
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(signed_in_client(services))
        page = await client.get(f"/organiser/events/{event.id}")
        assert page.status_code == 200
        offered = page.text[page.text.index('id="suggestions-title"') :]
        offered = offered[: offered.index("</ul>")]
        slugs = re.findall(r'name="example" value="([a-z0-9-]+)"', offered)
        assert slugs[0] == "sormland-strukturbild"
        assert "en-vag-in-for-foretag" not in slugs  # shares nothing with the event

        form = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert form is not None
        linked = await client.post(
            f"/organiser/events/{event.id}/examples",
            data={"csrf_token": form.group(1), "example": "sormland-strukturbild"},
        )
        assert linked.status_code == 303
        after = await client.get(f"/organiser/events/{event.id}")
        # Linked now, so no longer suggested; its challenges now suggest its neighbours.
        rest = after.text[after.text.index('id="examples-title"') :]
        assert "Strukturbild för regional planering" in rest
        if 'id="suggestions-title"' in after.text:
            offered = after.text[after.text.index('id="suggestions-title"') :]
            offered = offered[: offered.index("</ul>")]
            assert "sormland-strukturbild" not in offered
            assert "ystad-regional-karna" in offered  # shares samhällsplanering
