"""Who runs the service, its privacy notice and its accessibility statement (issue 13, items
1, 2 and 5): named and linked in every page's footer, the privacy page listing every field
the forms collect and the tables keep, with the numbers of the settings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest
from starlette.routing import Route

from foundation.database import Base
from foundation.services import Services
from lunchkafe.app import create_app
from tests.factories import make_series
from tests.signing_in import signed_in_client

AGENCY = "Länsstyrelsen i Exempellän"
CONTACT = "kontakt@lansstyrelsen.example.se"
DPO = "dpo@lansstyrelsen.example.se"

# Columns of the tables that hold a person's data which are no fact about the person: keys,
# foreign keys, and hashes or nonces of secrets (a copy of which opens nothing).
NOT_ABOUT_A_PERSON = {
    "id",
    "event_id",
    "registration_id",
    "organiser_id",
    "send_id",
    "example_id",
    "token_nonce",
    "manage_token_hash",
    "token_hash",
    "dedupe_key",
    "next_attempt_at",
}
# The tables that hold people's data, and the prefix of the columns of each the page must
# account for ("": every column).
PERSONAL_TABLES: dict[str, str] = {
    "registrations": "",
    "attendee_feeds": "",
    "outbox_messages": "",
    "organisers": "",
    "organiser_sessions": "",
    "organiser_tokens": "",
    "audit_log": "",
    "guide_proposals": "",
    # The guide's examples are about organisations; only their contact person is a person.
    "guide_examples": "contact_",
}
# A form's inputs that store nothing about the person.
NOT_STORED = {"csrf_token", "consent", "comment"}  # comment: the honeypot

# What these pages say depends on the settings, not on the database.
pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


class Fields(HTMLParser):
    """The names of a page's form inputs, and the `data-field`s of its privacy list."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: set[str] = set()
        self.listed: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        named = tag in ("input", "select", "textarea") and found.get("name")
        if named and found.get("type") not in ("submit", "button"):
            self.inputs.add(str(found["name"]))
        if found.get("data-field"):
            self.listed |= set(str(found["data-field"]).split())


def read(html: str) -> Fields:
    parsed = Fields()
    parsed.feed(html)
    return parsed


@pytest.fixture
async def agency_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app with an agency of its own (not the demo's), retention numbers of its own."""
    settings = dataclasses.replace(
        services.settings,
        agency_name=AGENCY,
        agency_email=CONTACT,
        data_controller=AGENCY,
        dpo_email=DPO,
        partner_network="",
        retention_days=123,
        outbox_retention_days=31,
        audit_retention_days=400,
        proposal_retention_days=77,
    )
    app = create_app(settings, dataclasses.replace(services, settings=settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def assert_footer(html: str, where: str) -> None:
    footer = html.partition('<footer class="site-footer">')[2]
    assert AGENCY in footer, where
    assert f'href="mailto:{CONTACT}"' in footer, where
    # /my-data too: where a person sees, downloads and erases what is kept about them.
    for path in ("/about", "/privacy", "/accessibility", "/my-data"):
        assert f'href="{path}"' in footer, (where, path)


async def test_every_page_names_the_agency_and_links_privacy_and_accessibility(
    services: Services, agency_client: httpx.AsyncClient
) -> None:
    [event, *_] = await make_series(services, slug="cafeer", events=1)
    fill = {"event_id": str(event.id), "slug": "cafeer"}
    pages = {"/no-such-page", "/events/999999", "/?lang=en"}
    for route in create_app(services.settings, services).routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if route.path.startswith(("/api/", "/organiser", "/healthz", "/readyz", "/metrics")):
            continue
        if re.search(r"\.(ics|csv|xlsx|json|svg)$", route.path) or "{token}" in route.path:
            continue
        param = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
        pages.add(param.sub(lambda m: fill.get(m.group(1), "1"), route.path))
    pages.add("/api/v1/docs")
    assert {"/", "/about", "/privacy", "/accessibility", f"/events/{event.id}"} <= pages
    for path in sorted(pages):
        answer = await agency_client.get(path)
        assert answer.status_code < 500, path
        if answer.headers.get("content-type", "").startswith("text/html"):
            assert_footer(answer.text, path)


async def test_the_footer_names_the_data_page_in_the_pages_language(
    agency_client: httpx.AsyncClient,
) -> None:
    for lang, label in (("sv", "Dina uppgifter"), ("en", "Your data")):
        footer = (await agency_client.get(f"/?lang={lang}")).text.partition("<footer")[2]
        assert f'<a href="/my-data">{label}</a>' in footer, lang


async def test_the_privacy_page_lists_every_field_the_forms_and_tables_keep(
    services: Services, agency_client: httpx.AsyncClient
) -> None:
    [event, *_] = await make_series(services, slug="cafeer", events=1)
    page = await agency_client.get("/privacy")
    assert page.status_code == 200
    listed = read(page.text).listed
    # Each form's inputs, and the table each is stored in.
    forms = {
        f"/events/{event.id}": "registrations",
        "/series/cafeer": "registrations",
        "/guide/share": "guide_proposals",
    }
    stored: set[str] = set()
    for path, table in forms.items():
        answer = await agency_client.get(path)
        if answer.status_code == 404 and path == "/guide/share":
            continue  # 'Dela med dig' is not in this version
        assert answer.status_code == 200, path
        stored |= {f"{table}.{name}" for name in read(answer.text).inputs - NOT_STORED}
    async with signed_in_client(services) as organiser:
        added = await organiser.get(f"/organiser/events/{event.id}/attendees/new")
        assert added.status_code == 200
        stored |= {f"registrations.{name}" for name in read(added.text).inputs - NOT_STORED}
    assert {"registrations.name", "registrations.municipality"} <= stored
    assert stored - listed == set(), "fields a form collects that /privacy does not name"

    tables = Base.metadata.tables
    kept = {
        f"{table}.{column.name}"
        for table, wanted in PERSONAL_TABLES.items()
        if table in tables
        for column in tables[table].columns
        if column.name not in NOT_ABOUT_A_PERSON and column.name.startswith(wanted)
    }
    assert kept - listed == set(), "columns about a person that /privacy does not name"
    # And the page names nothing the tables do not hold (a column renamed, a table gone).
    named_columns = {f for f in listed if "." in f and f.split(".")[0] in tables}
    assert named_columns <= kept, named_columns - kept


async def test_the_privacy_page_is_written_from_the_settings(
    services: Services, agency_client: httpx.AsyncClient
) -> None:
    text = re.sub(r"\s+", " ", (await agency_client.get("/privacy")).text)
    assert f"{AGENCY} är personuppgiftsansvarig" in text
    assert f'href="mailto:{DPO}"' in text
    assert "raderas 123 dagar efter evenemanget" in text
    assert "raderas 31 dagar efter utskicket" in text  # OUTBOX_RETENTION_DAYS
    assert "raderas efter 400 dagar" in text  # AUDIT_RETENTION_DAYS
    assert "raderas 123 dagar efter arrangörernas beslut" in text  # proposals: RETENTION_DAYS
    assert "inte har beslutat om raderas 77 dagar efter att du skickade det" in text
    assert "artikel 6.1 e" in text
    assert 'href="https://www.imy.se/"' in text
    english = re.sub(r"\s+", " ", (await agency_client.get("/privacy?lang=en")).text)
    assert "123 days after the event" in english
    assert "Article 6(1)(e)" in english


async def test_the_booking_forms_consent_text_names_the_fields_and_links_privacy(
    services: Services, agency_client: httpx.AsyncClient
) -> None:
    [event, *_] = await make_series(services, slug="cafeer", events=1)
    for path in (f"/events/{event.id}", "/series/cafeer"):
        html = (await agency_client.get(path)).text
        notice = html.partition('id="privacy-notice"')[2].partition("</p>")[0]
        assert AGENCY in notice, path
        assert "kommun eller region" in notice, path
        assert "123 dagar" in notice, path
        assert 'href="/privacy"' in notice, path


async def test_the_accessibility_statement_says_how_to_report_and_to_whom(
    agency_client: httpx.AsyncClient, services: Services
) -> None:
    html = (await agency_client.get("/accessibility")).text
    assert "delvis förenlig med lagen (2018:1937)" in html
    assert f'href="mailto:{CONTACT}?subject=' in html  # feedback reaches the organisers
    assert f'href="{services.settings.accessibility_report_url}"' in html
    assert services.settings.accessibility_report_url.startswith("https://www.digg.se/")
    assert "axe-core" in html
    assert "320 pixlar" in html
    assert "30 november 2026" in html
    english = (await agency_client.get("/accessibility?lang=en")).text
    assert "partially compliant" in english
    assert "30 November 2026" in english
