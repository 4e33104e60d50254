"""Knowing an address opens nothing that belongs to it (issue 7, item 1).

An outsider books with a victim's address, through the form, the JSON API and the series
form, then follows every link on every page, file and API answer they got. Nothing they
reach may lead to any booking of the victim's, the one just made included, their join links,
their personal feed or a way to cancel them; and the answer is the same whether the address
already held the event or not (registrations/receipt.py), so it does not tell who is booked.
The personal feed is reached only through the link mailed to the address, read here from
what a real SMTP server (aiosmtpd) received; replacing its address mails the new one and
shows it to nobody. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from events.models import Event
from events.schedule import create_series
from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from mail.models import MessageKind, OutboxMessage
from notices.delivery import DeliveryReport
from registrations import booking
from registrations.booking import BookingResult
from registrations.feeds import feed_for, feed_token
from registrations.models import AttendeeFeed, Registration
from tests.conftest import SECRET, Mail
from tests.factories import SOON, csrf_in, csrf_of, make_event, person

SITE = "testserver"
VICTIM = person(1, name="Vera Offer", email="vera.offer@kommun.example.se")
SERIES = "cafeer"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
ABSOLUTE = re.compile(r"""(?:https?|webcal)://[^\s"'<>\\]+""")


def outsider(email: str = VICTIM.email) -> dict[str, Any]:
    """What someone who merely knows the address types in."""
    return {"name": "Otto Utsida", "email": email, "organisation": "", "consent": True}


@dataclass
class Victim:
    """The victim's own bookings and what must stay theirs."""

    own: list[BookingResult]
    join_urls: list[str]
    feed_token: str
    series_event: Event  # a series event the victim has booked already
    fresh_series_event: Event  # one they have not
    target: Event  # a single event the victim has not booked

    @property
    def secrets(self) -> list[str]:
        tokens = [r.manage_token for r in self.own if r.manage_token]
        return [*tokens, *self.join_urls, self.feed_token]


async def _book(services: Services, event: Event) -> BookingResult:
    async with services.transaction() as session:
        return await booking.book(session, event_id=event.id, attendee=VICTIM, secret_key=SECRET)


async def make_victim(services: Services) -> Victim:
    async with services.transaction() as session:
        await create_series(session, slug=SERIES, title="Lunchkaféer")
    join_urls = [f"https://meet.example.se/vera-{n}" for n in range(3)]
    first = await make_event(services, title="Veras första", join_url=join_urls[0])
    second = await make_event(
        services,
        title="Veras andra",
        join_url=join_urls[1],
        starts_at=SOON + timedelta(days=1),
        ends_at=SOON + timedelta(days=1, hours=1),
    )
    series_event = await make_event(
        services,
        title="Kafé som Vera bokat",
        join_url=join_urls[2],
        series_slug=SERIES,
        starts_at=SOON + timedelta(days=2),
        ends_at=SOON + timedelta(days=2, hours=1),
    )
    fresh_series_event = await make_event(
        services,
        title="Kafé utan Vera",
        join_url="https://meet.example.se/series-fresh",
        series_slug=SERIES,
        starts_at=SOON + timedelta(days=3),
        ends_at=SOON + timedelta(days=3, hours=1),
    )
    target = await make_event(
        services,
        title="Öppen workshop",
        join_url="https://meet.example.se/target",
        starts_at=SOON + timedelta(days=4),
        ends_at=SOON + timedelta(days=4, hours=1),
    )
    own = [await _book(services, e) for e in (first, second, series_event)]
    assert all(r.confirmed for r in own)
    async with services.transaction() as session:
        token = feed_token(await feed_for(session, VICTIM.email.lower(), SECRET), SECRET)
    return Victim(own, join_urls, token, series_event, fresh_series_event, target)


# --- a crawler that follows everything an answer offers -------------------------------------


class Links(HTMLParser):
    """Every address a page offers: links, sources, and forms with their method."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.forms: list[tuple[str, str]] = []  # (method, action)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        for name in ("href", "src", "action", "formaction"):
            if name in found:
                self.urls.append(found[name])
        if tag == "form":
            self.forms.append((found.get("method", "get").lower(), found.get("action", "")))


def urls_in(text: str) -> list[str]:
    """Absolute addresses anywhere in a body, also inside other links' query strings and
    in folded iCalendar lines."""
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\\n", "\n")
    plain = html.unescape(unfolded)
    return ABSOLUTE.findall(plain) + ABSOLUTE.findall(unquote(unquote(plain)))


@dataclass
class Crawl:
    """What an outsider could reach, starting from the answers they got."""

    client: httpx.AsyncClient
    bodies: dict[str, str] = field(default_factory=dict)
    seen_urls: set[str] = field(default_factory=set)
    forms: set[tuple[str, str]] = field(default_factory=set)

    def offer(self, base: str, text: str, content_type: str) -> list[str]:
        found = urls_in(text)
        if "html" in content_type:
            parser = Links()
            parser.feed(text)
            found += [urljoin(base, u) for u in parser.urls]
            self.forms |= {(method, urljoin(base, action)) for method, action in parser.forms}
        if "json" in content_type:
            found += [v for v in _strings(json.loads(text)) if "://" in v]
        self.seen_urls |= set(found)
        return found

    async def follow(
        self, start: str, body: str | None = None, content_type: str = "", limit: int = 400
    ) -> None:
        """From an answer already got (`body`), or by fetching `start`, follow every link,
        until `limit` answers are held in all."""
        if body is None:
            queue = [start]
        else:
            queue = self.offer(start, body, content_type)
            self.bodies[start] = body
        while queue and len(self.bodies) < limit:
            url = queue.pop(0)
            parts = urlsplit(url)
            if parts.hostname != SITE or parts.path.startswith("/static/"):
                continue
            url = parts._replace(scheme="http", fragment="").geturl()
            if url in self.bodies:
                continue
            response = await self.client.get(url)
            assert response.status_code < 500, url
            self.bodies[url] = response.text
            location = response.headers.get("location")
            if location:
                queue.append(urljoin(url, location))
            queue += self.offer(url, response.text, response.headers.get("content-type", ""))

    def assert_opens_nothing_of(self, victim: Victim, allowed_token: str | None) -> None:
        everything = "\n".join([*self.bodies.values(), *self.seen_urls, *self.bodies])
        for secret in victim.secrets:
            assert secret not in everything
        for url in self.seen_urls | set(self.bodies) | {a for _, a in self.forms}:
            parts = urlsplit(url)
            if parts.hostname not in (None, SITE):
                # Another site's address (the footer's link to Digg's reporting form) can
                # have a 43-character word in its path; the victim's own secrets are
                # looked for in every URL above, this site's or not.
                continue
            path = parts.path
            assert not path.startswith("/feeds/"), url
            tokens = set(TOKEN.findall(path))
            assert tokens <= {allowed_token}, url
        for method, action in self.forms:
            # Public forms that act for no one in particular: booking, asking for a mailed
            # link to one's own data (only the address's inbox receives it) and proposing an
            # example to the guide (never public before an organiser approves it).
            if urlsplit(action).path in ("/my-data", "/guide/share"):
                continue
            if method == "post" and "/book" not in action:
                assert allowed_token is not None, action
                assert allowed_token in action, action


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def form_of(fields: dict[str, Any], csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": fields["name"],
        "email": fields["email"],
        "organisation": fields["organisation"],
        "municipality": "",
        "consent": "yes",
    }


# --- the attack, by every door --------------------------------------------------------------

SPELLINGS = [VICTIM.email, VICTIM.email.upper(), "Vera.Offer@Kommun.Example.SE"]


STRANGER = "ny.person@kommun.example.se"  # an address with no bookings


Answer = tuple[int, list[tuple[str, str]], str]

# Headers that differ between any two answers, whoever asks (x-request-id: a new id each).
VARYING = {"date", "content-length", "set-cookie", "x-request-id"}


async def answer(client: httpx.AsyncClient, response: httpx.Response, email: str) -> Answer:
    """All that a booker sees of an answer: its status, its headers (cookies by name), and
    the page it sends them on to, or its body; with the address they typed replaced."""
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in VARYING)
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))
    headers += [("set-cookie", name) for name in cookies]
    location = response.headers.get("location")
    landed = await client.get(location) if location else response
    headers += [(f"landed:{k}", v) for k, v in landed.headers.multi_items() if k not in VARYING]
    return response.status_code, headers, landed.text.replace(email, "ADDRESS")


async def answers_for(
    client: httpx.AsyncClient,
    path: str,
    *,
    form: bool,
    emails: tuple[str, ...],
    csrf_from: str | None = None,
) -> list[Answer]:
    """The answers to booking `path` with each address in turn, by form (its token from
    `csrf_from`, by default the form's own page) or API."""
    answers = []
    for email in emails:
        if form:
            csrf = await csrf_of(client, csrf_from or path.removesuffix("/book"))
            response = await client.post(path, data=form_of(outsider(email), csrf))
        else:
            response = await client.post(path, json=outsider(email))
        answers.append(await answer(client, response, email))
    return answers


@pytest.mark.parametrize("email", SPELLINGS)
async def test_booking_by_form_with_someone_elses_address_opens_nothing(
    services: Services, client: httpx.AsyncClient, email: str
) -> None:
    victim = await make_victim(services)
    path = f"/events/{victim.target.id}"
    csrf = await csrf_of(client, path)
    response = await client.post(f"{path}/book", data=form_of(outsider(email), csrf))
    assert response.status_code == 303
    assert await stored_for(services, victim.target.id) == ["confirmed"]

    # Not even the booking just made: its link goes only to the address (it may be
    # someone else's, and the booker must not keep a way to cancel the owner's seat).
    crawl = Crawl(client)
    await crawl.follow(f"http://{SITE}{response.headers['location']}")
    assert "Titta i din e-post" in crawl.bodies[f"http://{SITE}{path}/received"]
    crawl.assert_opens_nothing_of(victim, None)
    assert "https://meet.example.se/target" not in "".join(crawl.bodies.values())

    # A repeat for an event the victim already holds: nothing more either.
    held = victim.own[0].registration.event_id
    again = await client.post(f"/events/{held}/book", data=form_of(outsider(email), csrf))
    assert again.status_code == 303
    repeat = Crawl(client)
    await repeat.follow(f"http://{SITE}{again.headers['location']}")
    repeat.assert_opens_nothing_of(victim, None)


async def stored_for(services: Services, event_id: int) -> list[str]:
    async with services.transaction() as session:
        rows = await session.scalars(
            select(Registration.status).where(Registration.event_id == event_id)
        )
        return [status.value for status in rows]


@pytest.mark.parametrize("capacity", [20, 1], ids=["seats-left", "full"])
async def test_the_booking_page_answers_a_holder_and_a_stranger_alike(
    services: Services, client: httpx.AsyncClient, capacity: int
) -> None:
    """The answer does not tell whether the address already held a seat, a place in line,
    or nothing: the same status and page, but for the address itself (full: a stranger
    would get a place in line where the holder keeps a seat)."""
    victim = await make_victim(services)
    held = victim.own[0].registration.event_id
    async with services.transaction() as session:
        stored = await session.get(Event, held)
        assert stored is not None
        stored.capacity = capacity
    holder, stranger = await answers_for(
        client, f"/events/{held}/book", form=True, emails=(VICTIM.email, STRANGER)
    )
    assert holder == stranger
    assert holder[0] == 303


@pytest.mark.parametrize("form", [True, False], ids=["form", "api"])
async def test_a_closed_event_answers_a_holder_and_a_stranger_alike(
    services: Services, client: httpx.AsyncClient, form: bool
) -> None:
    victim = await make_victim(services)
    held = victim.own[0].registration.event_id
    async with services.transaction() as session:  # the organiser closes booking early
        stored = await session.get(Event, held)
        assert stored is not None
        stored.registration_closes_at = utcnow() - timedelta(minutes=1)
    path = f"/events/{held}/book" if form else f"/api/events/{held}/registrations"
    holder, stranger = await answers_for(
        client,
        path,
        form=form,
        emails=(VICTIM.email, STRANGER),
        csrf_from=f"/events/{victim.target.id}",  # a page that still has a form
    )
    assert holder == stranger
    assert holder[0] == 409


async def test_the_series_page_answers_a_holder_and_a_stranger_alike(
    services: Services, client: httpx.AsyncClient
) -> None:
    victim = await make_victim(services)  # holds one of the two series events
    path = f"/series/{SERIES}"
    holder, stranger = await answers_for(
        client, f"{path}/book", form=True, emails=(VICTIM.email, STRANGER)
    )
    assert holder == stranger
    status, headers, text = holder
    assert status == 303
    assert ("location", f"{path}/received") in headers
    assert ("set-cookie", "lk_note") in headers
    assert "ADDRESS" in text  # the address is shown back, so a typo is seen
    for event in (victim.series_event, victim.fresh_series_event):
        assert event.title in text

    crawl = Crawl(client)
    await crawl.follow(f"http://{SITE}{path}/received")
    crawl.assert_opens_nothing_of(victim, None)


async def test_booking_by_the_api_with_someone_elses_address_opens_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    victim = await make_victim(services)
    created = await client.post(
        f"/api/events/{victim.target.id}/registrations", json=outsider(VICTIM.email.upper())
    )
    assert created.status_code == 202
    crawl = Crawl(client)
    await crawl.follow(str(created.url), created.text, "application/json")
    crawl.assert_opens_nothing_of(victim, None)

    held = victim.own[1].registration.event_id
    path = f"/api/events/{held}/registrations"
    holder, stranger = await answers_for(client, path, form=False, emails=(VICTIM.email, STRANGER))
    assert holder == stranger
    nothing = Crawl(client)
    await nothing.follow(f"http://{SITE}{path}", holder[2], "application/json")
    nothing.assert_opens_nothing_of(victim, None)


_victims: dict[int, Victim] = {}


# Few examples: each books once more with the one address, under the per-address rate limit.
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(upper=st.lists(st.booleans(), min_size=len(VICTIM.email), max_size=len(VICTIM.email)))
async def test_no_spelling_of_the_address_changes_the_answer(
    services: Services, client: httpx.AsyncClient, upper: list[bool]
) -> None:
    """Addresses compare case-insensitively; however it is typed, a repeat of a held event
    answers as a new booking does, and opens nothing."""
    if id(services) not in _victims:
        _victims[id(services)] = await make_victim(services)
    victim = _victims[id(services)]
    email = "".join(c.upper() if up else c for c, up in zip(VICTIM.email, upper, strict=True))
    held = victim.own[2].registration.event_id
    repeat = await client.post(f"/api/events/{held}/registrations", json=outsider(email))
    event = await make_event(services, title="Ännu ett kafé", join_url="https://meet.example.se/x")
    created = await client.post(f"/api/events/{event.id}/registrations", json=outsider(email))
    assert repeat.status_code == created.status_code == 202
    assert repeat.json() == {**created.json(), "event_id": held}
    crawl = Crawl(client)
    await crawl.follow(str(created.url), created.text, "application/json", limit=2)
    crawl.assert_opens_nothing_of(victim, None)


async def test_the_manage_page_shows_one_booking_and_writes_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    victim = await make_victim(services)
    async with services.transaction() as session:
        await session.execute(delete(AttendeeFeed))
    mine = victim.own[0]
    page = await client.get(f"/manage/{mine.manage_token}")
    assert page.status_code == 200
    assert victim.join_urls[0] in page.text
    for other in victim.join_urls[1:]:
        assert other not in page.text
    assert "/feeds/" not in page.text
    assert "Byt adress" not in page.text
    assert "finns i mejlen vi skickar dig" in page.text
    async with services.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AttendeeFeed)) == 0

    # The old way to replace the feed from a manage link is gone.
    csrf = await csrf_of(client, f"/manage/{mine.manage_token}/cancel")
    async with services.transaction() as session:
        feed = await feed_for(session, VICTIM.email.lower(), SECRET)
        token = feed_token(feed, SECRET)
    old = await client.post(f"/manage/{mine.manage_token}/feed/revoke", data={"csrf_token": csrf})
    assert old.status_code in (404, 405)
    assert (await client.get(f"/feeds/{token}.ics")).status_code == 200


async def test_the_personal_feed_carries_no_manage_links(
    services: Services, client: httpx.AsyncClient
) -> None:
    victim = await make_victim(services)
    feed = await client.get(f"/feeds/{victim.feed_token}.ics")
    assert feed.status_code == 200
    body = feed.text.replace("\r\n ", "")
    for join_url in victim.join_urls:
        assert join_url in body  # the owner's feed does carry their join links
    assert "/manage/" not in body
    for result in victim.own:
        assert result.manage_token
        assert result.manage_token not in body
    assert "no-store" in feed.headers["cache-control"]
    # One booking's own download keeps its own manage link, and only that.
    single = await client.get(f"/manage/{victim.own[0].manage_token}/event.ics")
    text = single.text.replace("\r\n ", "")
    assert f"/manage/{victim.own[0].manage_token}" in text
    assert str(victim.own[1].manage_token) not in text
    assert "no-store" in single.headers["cache-control"]


# --- the mailed link, and replacing the address ---------------------------------------------


@pytest.fixture
async def mailed(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{SITE}") as c:
        yield c


def text_part(message: Any) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def feed_links(message: Any) -> set[str]:
    found = set(re.findall(r"http://testserver/feeds/[^\s\"<>]+", text_part(message)))
    html_body = message.get_body(("html",)).get_content()
    found |= {
        html.unescape(u) for u in re.findall(r'href="(http://testserver/feeds/[^"]+)"', html_body)
    }
    return found


async def test_the_mailed_link_opens_the_calendar_page_and_replacing_mails_the_new_one(
    mail: Mail, mailed: httpx.AsyncClient
) -> None:
    victim = await make_victim(mail.services)
    assert await mail.deliver() == DeliveryReport(sent=3)
    links = set().union(*(feed_links(m) for m in mail.to(VICTIM.email)))
    (link,) = links  # every mail carries the same page
    assert link == f"http://{SITE}/feeds/{victim.feed_token}?lang=sv"

    page = await mailed.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "no-store" in page.headers["cache-control"]
    ics = f"http://{SITE}/feeds/{victim.feed_token}.ics"
    parser = Links()
    parser.feed(page.text)
    assert ics in parser.urls
    assert "webcal://testserver/feeds/" + victim.feed_token + ".ics" in parser.urls
    assert "Dela inte adressen" in page.text
    csrf = csrf_in(page.text)
    replace = f"/feeds/{victim.feed_token}/replace"
    assert ("post", f"http://{SITE}{replace}") in {(m, urljoin(link, a)) for m, a in parser.forms}
    mail.clear()

    # Without the form's token nothing changes.
    assert (await mailed.post(replace, data={"csrf_token": "forged"})).status_code == 403
    assert (await mailed.get(ics)).status_code == 200

    pressed = await mailed.post(replace, data={"csrf_token": csrf}, follow_redirects=True)
    assert pressed.status_code == 200
    assert "Vi har mejlat den nya adressen till dig" in pressed.text
    assert (await mailed.get(ics)).status_code == 404
    assert (await mailed.get(link)).status_code == 404
    async with mail.services.transaction() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == MessageKind.FEED_REPLACED)
            )
        ).all()
        assert [r.recipient for r in rows] == [VICTIM.email]
        new_token = feed_token(await feed_for(session, VICTIM.email.lower(), SECRET), SECRET)
    assert new_token != victim.feed_token
    # Whoever pressed the button never sees the new address.
    answers = [pressed, *pressed.history]
    for answer in answers:
        assert new_token not in answer.text
        assert new_token not in str(answer.headers)

    assert await mail.deliver() == DeliveryReport(sent=1)
    message = mail.only(VICTIM.email)
    assert str(message["Subject"]) == "Ny adress till din personliga kalender"
    (new_link,) = feed_links(message)
    assert new_link == f"http://{SITE}/feeds/{new_token}?lang=sv"
    assert "/manage/" not in text_part(message)
    opened = await mailed.get(new_link)
    assert opened.status_code == 200
    feed = await mailed.get(f"{new_link.removesuffix('?lang=sv')}.ics")
    assert feed.status_code == 200
    for join_url in victim.join_urls:
        assert join_url in feed.text.replace("\r\n ", "")


async def test_replacing_twice_quickly_mails_the_newest_address_once(
    mail: Mail, mailed: httpx.AsyncClient
) -> None:
    victim = await make_victim(mail.services)
    await mail.deliver()
    mail.clear()
    token = victim.feed_token
    for _ in range(2):
        csrf = await csrf_of(mailed, f"/feeds/{token}")
        assert (
            await mailed.post(f"/feeds/{token}/replace", data={"csrf_token": csrf})
        ).status_code == 303
        async with mail.services.transaction() as session:
            token = feed_token(await feed_for(session, VICTIM.email.lower(), SECRET), SECRET)
    assert await mail.deliver() == DeliveryReport(sent=1, skipped=1)
    (link,) = feed_links(mail.only(VICTIM.email))
    assert link == f"http://{SITE}/feeds/{token}?lang=sv"
