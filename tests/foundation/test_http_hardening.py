"""HTTP at the edge: capped bodies, the mailbox switch, links that stay on the site, headers.

Issue 7, items 7, 8 and 9, each example as a test: a 200 MB body to a live uvicorn, the
mailbox behind a proxy that trusts X-Forwarded-For, `/%5Cevil.example`, a forged Host header,
HSTS with an https BASE_URL, and no-store/no-referrer at every URL that holds a token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.services import Services
from foundation.settings import (
    DEMO_AGENCY_EMAIL,
    DEMO_DPO_EMAIL,
    ConfigurationError,
    Settings,
)
from lunchkafe.app import create_app
from mail.mailbox import LocalMailbox
from registrations import booking
from registrations.feeds import feed_for, feed_token
from tests.conftest import SECRET, uvicorn_serving
from tests.factories import csrf_in, make_event, person
from tests.ports import free_port
from web.mailbox_pages import MAIL_POLICY

ONLY_SQLITE = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)
MB = 1024 * 1024


def with_settings(services: Services, **changes: Any) -> Services:
    return dataclasses.replace(services, settings=dataclasses.replace(services.settings, **changes))


@asynccontextmanager
async def in_process(services: Services, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    changed = with_settings(services, **changes)
    app = create_app(changed.settings, changed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# === 7. bodies are capped while they stream ================================================


def peak_rss_mb() -> float:
    """This process's peak resident memory since the last reset; uvicorn runs in it."""
    status = Path("/proc/self/status").read_text()
    kilobytes = int(re.search(r"VmHWM:\s+(\d+) kB", status)[1])  # type: ignore[index]
    return kilobytes / 1024


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


class HugeBody:
    """200 MB made lazily in 64 kB chunks, counting what the client got to send."""

    CHUNK = 64 * 1024

    def __init__(self, head: bytes, chunks: int = 200 * MB // (64 * 1024)) -> None:
        self.head = head
        self.chunks = chunks
        self.sent = 0

    @property
    def length(self) -> int:
        return len(self.head) + self.chunks * self.CHUNK

    def stream(self) -> Iterator[bytes]:
        filler = b"a" * self.CHUNK
        yield self.head
        self.sent += len(self.head)
        for _ in range(self.chunks):
            yield filler
            self.sent += self.CHUNK


BODIES = {
    "api": ("/api/events/{id}/registrations", "application/json", b'{"name": "'),
    "form": ("/events/{id}/book", "application/x-www-form-urlencoded", b"name="),
}


@ONLY_SQLITE
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("kind", BODIES)
async def test_a_200_mb_body_is_refused_before_it_is_read(
    services: Services, live_server: str, kind: str, declared: bool
) -> None:
    event = await make_event(services)
    path, content_type, head = BODIES[kind]
    body = HugeBody(head)
    headers = {"content-type": content_type, "accept": "text/html"}
    if declared:
        headers["content-length"] = str(body.length)
    reset_peak_rss()
    before = peak_rss_mb()

    def post() -> httpx.Response:
        # A blocking client in a thread, as most clients are: httpx on asyncio stops reading
        # while it writes, so it would lose an answer that comes before the body is sent.
        with httpx.Client(base_url=live_server, timeout=60) as client:
            return client.post(path.format(id=event.id), content=body.stream(), headers=headers)

    response = await asyncio.to_thread(post)
    grown = peak_rss_mb() - before

    assert response.status_code == 413
    assert response.headers.get_list("connection") == ["close"]  # said once
    # The answer came while the client was still sending: at most what sits in socket
    # buffers went out, not the 200 MB.
    assert body.sent < 20 * MB, f"the client sent {body.sent / MB:.0f} MB before the answer"
    assert grown < 40, f"the server process grew by {grown:.0f} MB"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in response.headers
    if kind == "api":
        assert response.json()["error"]["code"] == "too_large"
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "För stor begäran." in response.text


@ONLY_SQLITE
@pytest.mark.parametrize("path", ["/", "/events/{id}", "/api/events"])
async def test_a_body_sent_where_none_is_read_is_not_read_either(
    services: Services, live_server: str, path: str
) -> None:
    """A page that answers without reading the body it was sent closes the connection:
    otherwise the server would read an endless chunked body to keep the connection alive."""
    event = await make_event(services)
    body = HugeBody(b"x")

    def get() -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            return client.request("GET", path.format(id=event.id), content=body.stream())

    response = await asyncio.to_thread(get)
    assert response.status_code == 200
    assert response.headers["connection"] == "close"
    assert body.sent < 20 * MB, f"the client sent {body.sent / MB:.0f} MB"


@ONLY_SQLITE
@pytest.mark.parametrize("kind", BODIES)
async def test_bodies_just_over_the_limit_are_refused_and_under_it_are_not(
    services: Services, client: httpx.AsyncClient, kind: str
) -> None:
    event = await make_event(services)
    path, content_type, head = BODIES[kind]
    limit = 20_000 if kind == "api" else 64 * 1024
    headers = {"content-type": content_type}

    async def chunked(size: int) -> AsyncIterator[bytes]:
        yield head + b"a" * (size - len(head))

    for send in (lambda size: head + b"a" * (size - len(head)), chunked):
        over = await client.post(path.format(id=event.id), content=send(limit + 1), headers=headers)
        assert over.status_code == 413
        under = await client.post(path.format(id=event.id), content=send(limit), headers=headers)
        # Read whole and refused for what it says (bad JSON, no CSRF token), not for its size.
        assert under.status_code in (400, 403, 422)


# === 8. the mailbox is on only when the setting says so ===================================


def delivered(services: Services) -> str:
    message = EmailMessage()
    message["From"] = "Lunchkafé <lunchkafe@example.se>"
    message["To"] = "anna@kommun.example.se"
    message["Subject"] = "Bekräftelse: Lunchkafé om förenkling"
    message.set_content("Din länk: http://127.0.0.1/manage/secret\n")
    message.add_alternative("<p>Din länk</p>\n", subtype="html")
    return LocalMailbox(services.settings.mailbox_dir).deliver(message)


@ONLY_SQLITE
async def test_mailbox_is_off_by_default_whatever_the_forwarded_address(
    services: Services,
) -> None:
    local = with_settings(services, base_url=f"http://127.0.0.1:{free_port()}")
    delivered(local)
    # A hosting router's setting: trust X-Forwarded-For from anyone.
    async with (
        uvicorn_serving(local, proxy_headers=True, forwarded_allow_ips="*") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        for forwarded in ("127.0.0.1", "::1", "localhost"):
            for path in ("/mailbox", "/mailbox/x"):
                response = await client.get(path, headers={"x-forwarded-for": forwarded})
                assert response.status_code == 404, (forwarded, path)
                assert "anna@kommun.example.se" not in response.text


@ONLY_SQLITE
async def test_mailbox_is_served_when_turned_on(services: Services) -> None:
    local = with_settings(services, base_url=f"http://127.0.0.1:{free_port()}", mailbox_pages=True)
    message_id = delivered(local)
    async with (
        uvicorn_serving(local, proxy_headers=True, forwarded_allow_ips="*") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        index = await client.get("/mailbox", headers={"x-forwarded-for": "203.0.113.5"})
        message = await client.get(f"/mailbox/{message_id}")
        html = await client.get(f"/mailbox/{message_id}/html")
    assert index.status_code == 200
    assert "Bekräftelse: Lunchkafé om förenkling" in index.text
    assert message.status_code == 200
    assert "no-store" in index.headers["cache-control"]
    # A mail's own HTML stays sandboxed: the site's policy does not replace its own, and
    # only the mailbox's own page may frame it (tests/web/test_mailbox_preview_browser.py).
    assert html.status_code == 200
    assert html.headers.get_list("content-security-policy") == [MAIL_POLICY]
    assert html.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


@pytest.mark.parametrize(
    "environ",
    [
        {
            "MAILBOX_PAGES": "on",
            "SMTP_URL": "smtp://mail.example.se:25",
            "BASE_URL": "http://127.0.0.1:8000",
        },
        {"MAILBOX_PAGES": "on", "BASE_URL": "https://lunchkafe.example.se"},
        {"MAILBOX_PAGES": "yes please"},
    ],
    ids=["with-smtp", "with-https", "unclear"],
)
def test_mailbox_pages_are_refused_where_the_site_looks_public(
    environ: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="MAILBOX_PAGES"):
        Settings.from_environ({"SECRET_KEY": SECRET, "VAR_DIR": str(tmp_path), **environ})


def test_mailbox_pages_are_off_unless_turned_on(tmp_path: Path) -> None:
    base = {"SECRET_KEY": SECRET, "VAR_DIR": str(tmp_path)}
    assert not Settings.from_environ(base).mailbox_pages
    assert not Settings.from_environ({**base, "MAILBOX_PAGES": "off"}).mailbox_pages
    assert Settings.from_environ({**base, "MAILBOX_PAGES": "on"}).mailbox_pages


def test_make_run_turns_the_mailbox_on(project_root: Path) -> None:
    makefile = (project_root / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "MAILBOX_PAGES=$(MAILBOX_PAGES) $(BIN)/lunchkafe serve" in run
    assert re.search(r"^MAILBOX_PAGES \?= .*,on\)$", makefile, re.MULTILINE)


@pytest.mark.parametrize(
    ("environ", "pages"),
    [
        ({}, "on"),
        ({"BASE_URL": "http://localhost:8000"}, "on"),
        ({"BASE_URL": "http://10.1.2.3:8000"}, "off"),  # a LAN address: others can reach it
        ({"BASE_URL": "https://lunchkafe.example.se"}, "off"),
        ({"SMTP_URL": "smtp://mail.example.se:25"}, "off"),
    ],
)
def test_make_run_turns_the_mailbox_on_only_on_loopback(
    project_root: Path, environ: dict[str, str], pages: str
) -> None:
    variables = [f"{name}={value}" for name, value in environ.items()]
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(project_root), "run", *variables],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    assert f"MAILBOX_PAGES={pages} " in dry_run


# === 9. links stay on the site, absolute URLs come from BASE_URL ==========================


class Links(HTMLParser):
    """Every URL a page makes a browser follow or load: href, src, action."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("href", "src", "action") and v is not None]


def links_in(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.found


def resolve_like_a_browser(base: str, link: str) -> str:
    """urljoin with the WHATWG URL rules Python lacks: browsers strip C0 and space at the
    ends, drop tab and newline anywhere, and read "\\" as "/" before the query in http(s)."""
    link = link.strip("".join(map(chr, range(0x21))))
    link = re.sub(r"[\t\n\r]", "", link)
    cut = min((i for i in (link.find("?"), link.find("#")) if i >= 0), default=len(link))
    return urljoin(base, link[:cut].replace("\\", "/") + link[cut:])


# Add-to-calendar services the pages link to on purpose (events/calendar.py).
CALENDAR_SERVICES = {"calendar.google.com", "outlook.office.com", "outlook.live.com"}


# The only mail links a page may carry whatever its URL: the operator's own addresses from the
# settings (the footer's contact, the privacy notice's DPO). One built from the request would
# be as much a way off the site as an http link.
OPERATOR_MAILTO = {f"mailto:{DEMO_AGENCY_EMAIL}", f"mailto:{DEMO_DPO_EMAIL}"}


def assert_links_stay_on(html: str, page_url: str, host: str) -> None:
    for link in links_in(html):
        if link in OPERATOR_MAILTO:
            continue
        resolved = urlsplit(resolve_like_a_browser(page_url, link))
        assert resolved.scheme in ("http", "https", "webcal"), (link, resolved.geturl())
        assert resolved.netloc in {host, *CALENDAR_SERVICES}, (link, resolved.geturl())


async def test_a_crafted_path_gives_no_link_to_another_site(client: httpx.AsyncClient) -> None:
    for method in ("GET", "POST"):
        response = await client.request(method, "http://testserver/%5Cevil.example")
        assert response.status_code == 404
        assert_links_stay_on(response.text, "http://testserver/%5Cevil.example", "testserver")
    english = await client.get("http://testserver/%5Cevil.example")
    assert 'href="/%5Cevil.example?lang=en"' in english.text


@ONLY_SQLITE
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.text(alphabet="/\\\t\n\r %@:.?#evil", min_size=1, max_size=12))
async def test_no_path_makes_a_link_leave_the_site(client: httpx.AsyncClient, path: str) -> None:
    url = "http://testserver/" + quote(path, safe="/")
    for method in ("GET", "POST"):
        response = await client.request(method, url)
        assert_links_stay_on(response.text, url, "testserver")


FORGED = {"host": "evil.example"}
BASE = "http://lunchkafe.example.se"


def form_fields(html: str) -> dict[str, str]:
    """The named inputs of the booking form, as a browser would send them untouched."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag:
            fields[name[1]] = value[1] if value else ""
    return fields


@ONLY_SQLITE
async def test_a_forged_host_header_appears_in_no_link_location_or_url(
    services: Services,
) -> None:
    event = await make_event(services)
    seen: list[str] = []
    async with in_process(services, base_url=BASE) as client:
        for path in ("/", f"/events/{event.id}", "/guide", "/no-such-page", "/api/events"):
            response = await client.get(path, headers=FORGED)
            seen.append(response.text)
            if "html" in response.headers["content-type"]:
                assert_links_stay_on(response.text, f"{BASE}{path}", "lunchkafe.example.se")
        page = await client.get(f"/events/{event.id}", headers=FORGED)
        form = {
            **form_fields(page.text),
            "name": "Anna Andersson",
            "email": "anna@kommun.example.se",
            "consent": "yes",
        }
        booked = await client.post(f"/events/{event.id}/book", data=form, headers=FORGED)
        receipt = await client.get(booked.headers["location"], headers=FORGED)
        api = await client.post(
            f"/api/events/{event.id}/registrations",
            json={"name": "Bo Berg", "email": "bo@kommun.example.se", "consent": True},
            headers=FORGED,
        )
        listed = await client.get("/api/events", headers=FORGED)

    assert booked.status_code == 303
    assert booked.headers["location"] == f"/events/{event.id}/received"
    assert receipt.status_code == 200
    assert_links_stay_on(receipt.text, f"{BASE}/events/{event.id}/received", "lunchkafe.example.se")
    assert api.status_code == 202
    assert [e["url"] for e in listed.json()["events"]] == [f"{BASE}/events/{event.id}"]
    for text in [*seen, booked.headers["location"], receipt.text, api.text, listed.text]:
        assert "evil.example" not in text


@ONLY_SQLITE
async def test_hsts_only_with_an_https_base_url(services: Services) -> None:
    async with in_process(services, base_url="https://lunchkafe.example.se") as client:
        for path in ("/", "/no-such-page", "/api/events"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"] == (
                "max-age=31536000; includeSubDomains"
            )
    async with in_process(services, base_url="http://lunchkafe.example.se") as client:
        for path in ("/", "/no-such-page", "/api/events"):
            assert "strict-transport-security" not in (await client.get(path)).headers


async def test_answers_at_token_urls_are_never_stored_nor_named_in_a_referer(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    async with services.transaction() as session:
        result = await booking.book(
            session, event_id=event.id, attendee=person(1), secret_key=SECRET
        )
        feed = await feed_for(session, result.registration.email_normalised, SECRET)
        feed_path = f"/feeds/{feed_token(feed, SECRET)}.ics"
    token = result.manage_token
    feed_file = await client.get(feed_path)
    etag = feed_file.headers["etag"]
    answers = {
        "manage": await client.get(f"/manage/{token}"),
        "manage 404": await client.get("/manage/not-a-token"),
        "invite": await client.get(f"/manage/{token}/event.ics"),
        "feed": feed_file,
        "feed 304": await client.get(feed_path, headers={"if-none-match": etag}),
        "feed 404": await client.get("/feeds/not-a-token.ics"),
        "cancel without form": await client.post(f"/manage/{token}/cancel"),
        "api 404": await client.delete("/api/manage/not-a-token"),
        "api cancel": await client.delete(f"/api/manage/{token}"),
    }
    assert answers["manage"].status_code == 200
    assert answers["feed 304"].status_code == 304
    assert answers["api cancel"].status_code == 200
    for name, response in answers.items():
        assert response.headers.get_list("cache-control") == ["private, no-store"], name
        assert response.headers.get_list("referrer-policy") == ["no-referrer"], name
    # Public pages stay cacheable and keep the site-wide referrer policy.
    public = await client.get(f"/events/{event.id}")
    assert "no-store" not in public.headers.get("cache-control", "")
    assert public.headers.get_list("referrer-policy") == ["same-origin"]


async def test_head_answers_what_get_would(services: Services, client: httpx.AsyncClient) -> None:
    """HEAD promises the length GET sends (RFC 9110 §9.3.2): the page must not differ."""
    event = await make_event(services)
    for path in ("/", f"/events/{event.id}", "/guide", "/api/v1/docs", "/no/such/page"):
        got = await client.get(path)
        head = await client.head(path)
        assert head.status_code == got.status_code, path
        assert head.headers["content-length"] == str(len(got.content)), path


@ONLY_SQLITE
async def test_behind_https_the_form_cookie_is_host_prefixed(services: Services) -> None:
    """Found by an attacker: a plain lk_csrf cookie can be planted by a sibling subdomain,
    which then holds a token and cookie that match, and posts in a signed-in organiser's
    name (SameSite=Lax lets a same-site POST carry the session)."""
    event = await make_event(services)
    async with in_process(services, base_url="https://lunchkafe.example.se") as client:
        page = await client.get(f"/events/{event.id}")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-lk_csrf=")
        assert "Secure" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
        # A value planted under the plain name is not the one checked.
        token = csrf_in(page.text)
        raw = cookie.split(";", 1)[0].split("=", 1)[1]
        client.cookies.clear()
        client.cookies.set("lk_csrf", raw)
        refused = await client.post(f"/events/{event.id}/book", data={"csrf_token": token})
        assert refused.status_code == 403
