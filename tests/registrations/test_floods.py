"""Floods held back (issue 7, item 5): booking limits per client and per booked address,
shared through Redis, a honeypot on the forms, and one mail for a double click."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies
from sqlalchemy import func, select, update

from foundation.services import Services
from foundation.settings import ConfigurationError
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from mail.models import OutboxMessage
from registrations.models import Registration
from tests.browser import RECEIVED, Visitor, axe_violations, fill_booking
from tests.conftest import flushed_redis, make_settings, uvicorn_serving
from tests.factories import csrf_of, make_event, make_series
from tests.ports import free_port
from tests.processes import RedisServer

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page


REDIS_URL = "redis://127.0.0.1:6379/13"  # a database no other test uses; flushed around each
ATTACKER = "203.0.113.7"  # documentation addresses (RFC 5737)
COLLEAGUE = "198.51.100.20"


@dataclass
class Site:
    """One web process with its own settings; clients come from the addresses asked for."""

    services: Services
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, host: str = ATTACKER) -> httpx.AsyncClient:
        app = create_app(self.services.settings, self.services)
        transport = httpx.ASGITransport(app=app, client=(host, 40000))
        made = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.clients.append(made)
        return made


MakeSite = Callable[..., Site]


@pytest.fixture
async def site(services: Services, tmp_path: Path) -> AsyncIterator[MakeSite]:
    """Another process on the clean test database, with the limits (and Redis) given."""
    made: list[Site] = []

    def make(**environ: str) -> Site:
        var_dir = tmp_path / f"site{len(made)}"
        built = Services.build(make_settings(services.settings.database_url, var_dir, **environ))
        made.append(Site(built))
        return made[-1]

    yield make
    for one in made:
        for client in one.clients:
            await client.aclose()
        await one.services.close()


@pytest.fixture
async def redis_db() -> AsyncIterator[None]:
    async with flushed_redis(REDIS_URL):
        yield


def attendee(n: int) -> dict[str, str]:
    return {"name": f"Deltagare {n}", "email": f"d{n}@kommun.example.se", "consent": "yes"}


async def book_form(
    client: httpx.AsyncClient, event_id: int, n: int, **extra: str
) -> httpx.Response:
    token = await csrf_of(client, f"/events/{event_id}")
    data = {"csrf_token": token, **attendee(n), **extra}
    return await client.post(f"/events/{event_id}/book", data=data)


async def book_series(client: httpx.AsyncClient, slug: str, n: int, **extra: str) -> httpx.Response:
    token = await csrf_of(client, f"/series/{slug}")
    data = {"csrf_token": token, **attendee(n), **extra}
    return await client.post(f"/series/{slug}/book", data=data)


async def book_api(client: httpx.AsyncClient, event_id: int, n: int) -> httpx.Response:
    body = {**attendee(n), "consent": True}
    return await client.post(f"/api/events/{event_id}/registrations", json=body)


async def stored(services: Services) -> list[str]:
    async with services.transaction() as session:
        return list(await session.scalars(select(Registration.email).order_by(Registration.id)))


async def mailed(services: Services) -> list[str]:
    async with services.transaction() as session:
        return list(
            await session.scalars(select(OutboxMessage.recipient).order_by(OutboxMessage.id))
        )


def assert_refused_with_retry_after(response: httpx.Response, within: int) -> int:
    assert response.status_code == 429
    wait = int(response.headers["retry-after"])  # delay-seconds, RFC 9110 §10.2.3
    assert 1 <= wait <= within
    return wait


# === the limit per client address ==========================================================


async def test_one_client_over_the_limit_gets_429_on_the_form_and_nothing_is_stored(
    services: Services, site: MakeSite
) -> None:
    event = await make_event(services, capacity=2)
    client = site(BOOKING_RATE_LIMIT="3/minute").client()
    for n in range(3):
        assert (await book_form(client, event.id, n)).status_code == 303

    refused = await book_form(client, event.id, 3)

    assert_refused_with_retry_after(refused, 60)
    page = refused.text
    assert "För många bokningar just nu" in page
    assert re.search(
        r"Försök igen om \d+ (sekund|sekunder|minut|minuter), från kl\. \d\d\.\d\d\.", page
    ), page
    assert "Ingenting bokades den här gången." in page
    assert f'href="http://testserver/events/{event.id}"' in page
    assert await stored(services) == [f"d{n}@kommun.example.se" for n in range(3)]
    assert "d3@kommun.example.se" not in await mailed(services)


async def test_the_api_answers_429_with_retry_after_in_its_error_shape(
    services: Services, site: MakeSite
) -> None:
    event = await make_event(services)
    client = site(BOOKING_RATE_LIMIT="3/minute").client()
    for n in range(3):
        assert (await book_api(client, event.id, n)).status_code == 202

    refused = await book_api(client, event.id, 3)

    wait = assert_refused_with_retry_after(refused, 60)
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["retry_after"] == wait
    assert f"Försök igen om {wait} sekunder" in error["message"]
    assert len(await stored(services)) == 3
    assert "d3@kommun.example.se" not in await mailed(services)


async def test_every_limit_given_applies(services: Services, site: MakeSite) -> None:
    event = await make_event(services)
    client = site(BOOKING_RATE_LIMIT="100/hour;2/minute").client()
    assert [(await book_api(client, event.id, n)).status_code for n in range(3)] == [
        202,
        202,
        429,
    ]


async def test_clients_are_counted_apart(services: Services, site: MakeSite) -> None:
    event = await make_event(services)
    one = site(BOOKING_RATE_LIMIT="2/minute")
    attacker, colleague = one.client(ATTACKER), one.client(COLLEAGUE)
    for n in range(2):
        assert (await book_api(attacker, event.id, n)).status_code == 202
    assert (await book_api(attacker, event.id, 2)).status_code == 429

    assert (await book_form(colleague, event.id, 10)).status_code == 303
    assert (await book_api(colleague, event.id, 11)).status_code == 202
    assert len(await stored(services)) == 4


async def test_off_turns_the_limits_off(services: Services, site: MakeSite) -> None:
    event = await make_event(services, capacity=5)
    client = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="off").client()
    responses = await asyncio.gather(*(book_api(client, event.id, n) for n in range(40)))
    assert {r.status_code for r in responses} == {202}


async def test_the_default_limit_holds_back_a_script_but_not_a_workplace(
    services: Services, site: MakeSite
) -> None:
    """The README's default: thirty colleagues behind one address in a minute get in."""
    event = await make_event(services, capacity=20)
    process = site(BOOKING_RATE_LIMIT="", BOOKING_RATE_LIMIT_PER_EMAIL="")  # the defaults
    assert process.services.settings.booking_rate_limit  # the default is on
    client = process.client()
    statuses = [(await book_api(client, event.id, n)).status_code for n in range(40)]
    assert statuses == [202] * 30 + [429] * 10


# === the limit per booked address ===========================================================


async def test_one_address_is_limited_whichever_client_books_it(
    services: Services, site: MakeSite
) -> None:
    events = [await make_event(services, title=f"Kafé {n}") for n in range(3)]
    one = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="2/minute")
    hosts = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    codes = [
        (await book_api(one.client(host), event.id, 7)).status_code
        for host, event in zip(hosts, events, strict=True)
    ]
    assert codes == [202, 202, 429]
    # Another address from the same clients is not held back by it.
    assert (await book_api(one.client(hosts[2]), events[2].id, 8)).status_code == 202
    assert await stored(services) == [
        "d7@kommun.example.se",
        "d7@kommun.example.se",
        "d8@kommun.example.se",
    ]
    assert (await mailed(services)).count("d7@kommun.example.se") == 2


@pytest.mark.parametrize(
    "spellings",
    [
        ["anna+1@kommun.example.se", "anna+2@kommun.example.se", "Anna+3@kommun.example.se"],
        ["a.n.n.a@gmail.com", "an.na@googlemail.com", "anna+x@gmail.com"],
    ],
    ids=["subaddress", "gmail-dots"],
)
async def test_spellings_of_one_inbox_share_its_limit(
    services: Services, site: MakeSite, spellings: list[str]
) -> None:
    """Found by an attacker: `victim+N@` counted as new addresses, so one client flooded one
    inbox with 1,200 mails an hour. Each spelling below delivers to the same inbox."""
    events = [await make_event(services, title=f"Kafé {n}") for n in range(3)]
    client = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="2/minute").client()
    codes = []
    for email, event in zip(spellings, events, strict=True):
        body = {"name": "Anna", "email": email, "consent": True}
        codes.append(
            (await client.post(f"/api/events/{event.id}/registrations", json=body)).status_code
        )
    assert codes == [202, 202, 429]
    assert len(await mailed(services)) == 2


async def test_tagged_spellings_do_not_lock_the_plain_address_out(
    services: Services, site: MakeSite
) -> None:
    """Found by an attacker: `victim+1@` … `victim+60@` booked into one event used up the
    inbox's budget, and the owner's own address could not book anything for a day."""
    event, other = await make_event(services), await make_event(services, title="Kafé 2")
    one = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="3/minute;60/day")
    attacker = one.client(ATTACKER)
    codes = []
    others = ["d9+1", "d9+", "d9++", "d9+x", "d9+2"]  # every other spelling of the inbox
    for local in others:
        body = {"name": "X", "email": f"{local}@kommun.example.se", "consent": True}
        response = await attacker.post(f"/api/v1/events/{event.id}/registrations", json=body)
        codes.append(response.status_code)
    assert codes == [202, 202, 202, 429, 429]  # the tagged spellings share one budget

    assert (await book_as_victim_from_elsewhere(one, other.id)).status_code == 202
    assert (await mailed(services)).count("d9@kommun.example.se") == 1


async def test_links_sent_again_go_at_most_once_an_hour_per_inbox(
    services: Services, site: MakeSite
) -> None:
    """Found by an attacker: repeating bookings an address already held mailed each one's
    link again every hour, so N registrations (a series, or +tag spellings) gave N mails an
    hour. Now one an hour per inbox, and repeats never count against its booking budget, so
    they cannot lock the owner out either."""
    events = [await make_event(services, title=f"Kafé {n}") for n in range(3)]
    one = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="3/minute")
    attacker = one.client(ATTACKER)
    spellings = ["d9@kommun.example.se", "d9+a@kommun.example.se", "d9+b@kommun.example.se"]
    for event, email in zip(events, spellings, strict=True):
        body = {"name": "X", "email": email, "consent": True}
        response = await attacker.post(f"/api/v1/events/{event.id}/registrations", json=body)
        assert response.status_code == 202
    # Past the quiet minutes after a booking, each repeat would mail its link again.
    async with services.transaction() as session:
        await session.execute(
            update(Registration).values(updated_at=utcnow() - timedelta(minutes=10))
        )
    before = len(await mailed(services))
    for _ in range(3):
        for event, email in zip(events, spellings, strict=True):
            body = {"name": "X", "email": email, "consent": True}
            response = await attacker.post(f"/api/v1/events/{event.id}/registrations", json=body)
            assert response.status_code == 202
    assert len(await mailed(services)) == before + 1
    # The owner still books a new event: repeats cost their budget nothing.
    other = await make_event(services, title="Kafé 4")
    assert (await book_as_victim_from_elsewhere(one, other.id)).status_code == 202


async def test_an_ipv6_client_is_counted_by_its_64_network(
    services: Services, site: MakeSite
) -> None:
    """One IPv6 subscriber has a whole /64 to take new addresses from; another network is
    another client."""
    event = await make_event(services)
    one = site(BOOKING_RATE_LIMIT="2/minute")
    same_network = ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:abcd::9"]
    codes = [
        (await book_api(one.client(host), event.id, n)).status_code
        for n, host in enumerate(same_network)
    ]
    assert codes == [202, 202, 429]
    assert (await book_api(one.client("2001:db8:1:3::1"), event.id, 5)).status_code == 202


VICTIM = 9  # attendee(9): the address an attacker knows


async def book_as_victim_from_elsewhere(site: Site, event_id: int) -> httpx.Response:
    return await book_api(site.client(COLLEAGUE), event_id, VICTIM)


async def test_requests_for_a_missing_event_do_not_lock_an_address_out(
    services: Services, site: MakeSite
) -> None:
    event = await make_event(services)
    one = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="10/minute;60/day")
    attacker = one.client(ATTACKER)
    flood = [(await book_api(attacker, 999_999, VICTIM)).status_code for _ in range(20)]
    assert set(flood) == {404}

    # The owner of the address books a real event from their own desk: it goes through.
    assert (await book_as_victim_from_elsewhere(one, event.id)).status_code == 202
    assert await stored(services) == ["d9@kommun.example.se"]


async def test_repeat_bookings_of_a_held_event_do_not_lock_an_address_out(
    services: Services, site: MakeSite
) -> None:
    held, new = await make_event(services, title="Kafé 1"), await make_event(services)
    one = site(BOOKING_RATE_LIMIT="off", BOOKING_RATE_LIMIT_PER_EMAIL="10/minute;60/day")
    attacker = one.client(ATTACKER)
    assert (await book_api(attacker, held.id, VICTIM)).status_code == 202
    repeats = [(await book_api(attacker, held.id, VICTIM)).status_code for _ in range(20)]
    assert set(repeats) == {202}  # the address already holds it: nothing new is mailed

    assert (await book_as_victim_from_elsewhere(one, new.id)).status_code == 202
    assert await stored(services) == ["d9@kommun.example.se"] * 2
    assert (await mailed(services)).count("d9@kommun.example.se") == 2


async def test_the_client_limit_still_counts_every_attempt(
    services: Services, site: MakeSite
) -> None:
    event = await make_event(services)
    client = site(BOOKING_RATE_LIMIT="3/minute").client()
    codes = [(await book_api(client, 999_999, n)).status_code for n in range(3)]
    assert codes == [404, 404, 404]
    assert_refused_with_retry_after(await book_api(client, event.id, 3), 60)
    assert await stored(services) == []


# === a whole series is one booking ==========================================================


async def test_booking_a_whole_series_counts_once(services: Services, site: MakeSite) -> None:
    events = await make_series(services, slug="cafeer", events=5)
    client = site(BOOKING_RATE_LIMIT="2/minute", BOOKING_RATE_LIMIT_PER_EMAIL="2/minute").client()

    whole = await book_series(client, "cafeer", 1)

    assert whole.status_code == 303
    assert (await stored(services)).count("d1@kommun.example.se") == 5
    # The series was one of the two allowed, for the client and for the address alike.
    assert (await book_form(client, events[0].id, 2)).status_code == 303
    assert (await book_form(client, events[0].id, 3)).status_code == 429
    refused = await book_series(client, "cafeer", 4)
    assert_refused_with_retry_after(refused, 60)
    assert 'href="http://testserver/series/cafeer"' in refused.text
    assert len(await stored(services)) == 6


# === shared between processes through Redis, and Redis failing ==============================


async def test_the_limit_is_shared_through_redis_between_two_processes(
    services: Services, site: MakeSite, redis_db: None
) -> None:
    event = await make_event(services)
    first = site(REDIS_URL=REDIS_URL, BOOKING_RATE_LIMIT="3/minute").client()
    second = site(REDIS_URL=REDIS_URL, BOOKING_RATE_LIMIT="3/minute").client()

    assert (await book_api(first, event.id, 1)).status_code == 202
    assert (await book_form(second, event.id, 2)).status_code == 303
    assert (await book_api(first, event.id, 3)).status_code == 202
    assert_refused_with_retry_after(await book_api(second, event.id, 4), 60)
    assert (await book_form(first, event.id, 5)).status_code == 429
    assert len(await stored(services)) == 3

    # Nothing in Redis names an address or a client.
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [key.decode() async for key in redis.scan_iter("*")]
    finally:
        await redis.aclose()
    assert keys
    assert not [k for k in keys if "kommun.example.se" in k or ATTACKER in k], keys


async def test_bookings_go_through_when_redis_stops(
    services: Services,
    site: MakeSite,
    own_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    own_redis.start()
    event = await make_event(services)
    client = site(REDIS_URL=own_redis.url, BOOKING_RATE_LIMIT="1/minute").client()
    assert (await book_api(client, event.id, 1)).status_code == 202
    assert (await book_api(client, event.id, 2)).status_code == 429

    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="lunchkafe.ratelimit"):
        after = [await book_api(client, event.id, n) for n in range(3, 6)]
        form = await book_form(client, event.id, 6)

    # A missing limit costs less than a lost booking: every one goes through, no 5xx.
    assert [r.status_code for r in after] == [202, 202, 202]
    assert form.status_code == 303
    assert len(await stored(services)) == 5
    warnings = [r for r in caplog.records if r.name == "lunchkafe.ratelimit"]
    assert len(warnings) == 1  # once, not once per booking
    text = warnings[0].getMessage()
    assert "not enforced" in text
    assert "@" not in text
    assert ATTACKER not in text


# === the honeypot ===========================================================================


async def test_the_honeypot_is_hidden_from_everyone(services: Services, site: MakeSite) -> None:
    event = await make_event(services)
    await make_series(services, slug="cafeer", events=1)
    client = site().client()
    for page in (f"/events/{event.id}", "/series/cafeer"):
        html = (await client.get(page)).text
        trap = re.search(r'<div class="visually-hidden" aria-hidden="true">(.*?)</div>', html, re.S)
        assert trap is not None, page
        assert '<label for="field-comment">Lämna tomt</label>' in trap.group(1)
        field_html = re.search(r"<input [^>]*name=\"comment\"[^>]*>", trap.group(1))
        assert field_html is not None
        assert 'tabindex="-1"' in field_html.group(0)
        assert 'autocomplete="off"' in field_html.group(0)
        assert "captcha" not in html.lower()


async def test_a_filled_honeypot_books_nothing_and_says_to_send_again(
    services: Services, site: MakeSite
) -> None:
    event = await make_event(services)
    client = site().client()

    trapped = await book_form(client, event.id, 1, comment="http://spam.example/")

    assert trapped.status_code == 422
    assert "Formuläret kunde inte skickas. Kontrollera uppgifterna och skicka det igen." in (
        trapped.text
    )
    assert 'value="Deltagare 1"' in trapped.text  # the input is kept for a person to resend
    assert 'value="http://spam.example/"' not in trapped.text  # and the trap emptied
    assert await stored(services) == []
    assert await mailed(services) == []
    # Whitespace is not a filled field (some tools pad empty inputs).
    assert (await book_form(client, event.id, 1, comment="  ")).status_code == 303


async def test_a_filled_honeypot_on_the_series_form_books_nothing(
    services: Services, site: MakeSite
) -> None:
    await make_series(services, slug="cafeer", events=3)
    client = site().client()
    trapped = await book_series(client, "cafeer", 1, comment="buy now")
    assert trapped.status_code == 422
    assert "Formuläret kunde inte skickas." in trapped.text
    assert await stored(services) == []
    assert await mailed(services) == []


# === the setting ============================================================================


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=strategies.sampled_from(["BOOKING_RATE_LIMIT", "BOOKING_RATE_LIMIT_PER_EMAIL"]),
    raw=strategies.one_of(
        strategies.text(max_size=30),
        strategies.from_regex(r"\A-?\d{1,4} ?(/|per) ?\d? ?[a-z]{3,8}\Z"),
    ),
)
def test_a_malformed_limit_stops_the_start_and_names_the_setting(
    tmp_path: Path, name: str, raw: str
) -> None:
    try:
        built = make_settings("sqlite:///x.db", tmp_path, **{name: raw})
    except ConfigurationError as exc:
        refused = str(exc)
    else:
        refused = ""
    if refused:
        assert name in refused
        assert "'off'" in refused  # and how to turn it off
        return
    items = (
        built.booking_rate_limit
        if name == "BOOKING_RATE_LIMIT"
        else (built.booking_rate_limit_per_email)
    )
    assert raw.strip().lower() == "off" or items  # empty: the default
    assert all(item.amount >= 1 for item in items)


@pytest.mark.parametrize(
    "raw", ["30", "thirty/minute", "0/minute", "30/fortnight", "30/minute;", "-1/hour"]
)
def test_examples_of_malformed_limits(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigurationError, match="BOOKING_RATE_LIMIT"):
        make_settings("sqlite:///x.db", tmp_path, BOOKING_RATE_LIMIT=raw)


def test_limits_in_the_notation_of_limits(tmp_path: Path) -> None:
    built = make_settings(
        "sqlite:///x.db",
        tmp_path,
        BOOKING_RATE_LIMIT="30/minute; 300 per hour",
        BOOKING_RATE_LIMIT_PER_EMAIL="OFF",
    )
    assert [(i.amount, i.get_expiry()) for i in built.booking_rate_limit] == [
        (30, 60),
        (300, 3600),
    ]
    assert built.booking_rate_limit_per_email == ()


# === a double click sends one mail ==========================================================


async def outbox_for(services: Services, address: str) -> int:
    async with services.transaction() as session:
        count = await session.scalar(select(func.count()).where(OutboxMessage.recipient == address))
    return int(count or 0)


async def test_a_double_click_sends_one_mail(services: Services, site: MakeSite) -> None:
    event = await make_event(services)
    client = site().client()
    token = await csrf_of(client, f"/events/{event.id}")
    data = {"csrf_token": token, **attendee(1)}

    clicks = await asyncio.gather(
        *(client.post(f"/events/{event.id}/book", data=data) for _ in range(2))
    )
    late_click = await client.post(f"/events/{event.id}/book", data=data)

    assert [c.status_code for c in clicks] == [303, 303]
    assert late_click.status_code == 303
    assert await stored(services) == ["d1@kommun.example.se"]
    assert await outbox_for(services, "d1@kommun.example.se") == 1


async def test_a_quick_repeat_through_the_api_sends_one_mail(
    services: Services, site: MakeSite
) -> None:
    event = await make_event(services)
    client = site().client()
    assert (await book_api(client, event.id, 1)).status_code == 202
    assert (await book_api(client, event.id, 1)).status_code == 202
    assert await outbox_for(services, "d1@kommun.example.se") == 1


# === in a real browser: nobody meets the honeypot, and both refusals pass axe-core =========


@pytest.fixture
async def limited_server(services: Services, tmp_path: Path) -> AsyncIterator[str]:
    """The app behind a real uvicorn, one booking a minute per client."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    built = Services.build(
        make_settings(
            services.settings.database_url, tmp_path, BASE_URL=base, BOOKING_RATE_LIMIT="1/minute"
        )
    )
    async with uvicorn_serving(built) as url:
        yield url
    await built.close()


async def assert_no_axe_violations(page: Page, base: str) -> None:
    violations = await axe_violations(page, base)
    assert violations == [], f"axe-core found on {page.url}: {violations}"


async def test_in_a_browser_the_honeypot_is_out_of_reach_and_refusals_pass_axe(
    services: Services, limited_server: str, browser: Browser
) -> None:
    event = await make_event(services)
    visitor = Visitor(browser, limited_server)
    try:
        page = await visitor.page()
        await page.goto(f"{limited_server}/events/{event.id}")
        # Not in the accessibility tree, so no screen reader announces it ...
        assert await page.get_by_role("textbox", name="Lämna tomt").count() == 0
        # ... and not in the tab order: from the last real field, Tab goes to the button.
        await page.get_by_label("Jag godkänner att mina uppgifter hanteras enligt ovan.").focus()
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.type") == "submit"

        # A script that fills every field: refused, the form kept to send again.
        await fill_booking(page, "Skript", "skript@kommun.example.se")
        await page.locator("input[name=comment]").evaluate("el => { el.value = 'köp nu' }")
        await page.locator("form[action$='/book'] button[type=submit]").click()
        await page.get_by_text("Formuläret kunde inte skickas.").wait_for()
        await assert_no_axe_violations(page, limited_server)

        # A person books; a second booking from the same client within the minute: 429.
        await fill_booking(page, "Anna", "anna@kommun.example.se")
        await page.locator("form[action$='/book'] button[type=submit]").click()
        await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
        await page.goto(f"{limited_server}/events/{event.id}")
        await fill_booking(page, "Bo", "bo@kommun.example.se")
        await page.locator("form[action$='/book'] button[type=submit]").click()
        await page.get_by_role("heading", level=1, name="För många bokningar just nu").wait_for()
        await assert_no_axe_violations(page, limited_server)
        assert await stored(services) == ["anna@kommun.example.se"]
    finally:
        await visitor.close()
    assert visitor.refused == []
