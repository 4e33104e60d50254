"""One error model (issue 8, item 3): a refusal is a DomainError with a code, a status and a
message marked where it is written; pages say it in the visitor's language, the API as an
RFC 9457 problem document, and nothing in between maps errors by hand.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import re
import textwrap
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.opening import BookingClosed, check_bookable
from foundation.errors import N_, DomainError
from foundation.locale.extract import TEMPLATE, extract_messages
from foundation.services import Services
from lunchkafe.app import create_app
from tests.factories import make_event

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "foundation",
    "mail",
    "events",
    "guide",
    "registrations",
    "organisers",
    "notices",
    "web",
    "workers",
)


def visible_text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)))


# Each refusal a visitor can meet by following a link that no longer leads anywhere:
# the domain raises it, the one handler in foundation.error_pages renders it.
REFUSALS = [
    ("/events/999999", "Evenemanget finns inte.", "The event does not exist."),
    ("/events/999999/event.ics", "Evenemanget finns inte.", "The event does not exist."),
    ("/events/999999/received", "Evenemanget finns inte.", "The event does not exist."),
    ("/series/no-such-series", "Serien finns inte.", "The series does not exist."),
    ("/series/no-such-series/received", "Serien finns inte.", "The series does not exist."),
    ("/series/no-such-series/calendar.ics", "Serien finns inte.", "The series does not exist."),
    ("/guide/no-such-example", "Exemplet finns inte.", "The example does not exist."),
    (
        "/manage/" + "x" * 43,
        "Anmälan finns inte, eller så har länken slutat gälla.",
        "The registration does not exist, or the link is no longer valid.",
    ),
    (
        "/feeds/" + "x" * 43,
        "Kalendern finns inte, eller så har länken bytts ut.",
        "The calendar does not exist, or its link has been replaced.",
    ),
]


@pytest.mark.parametrize(("path", "swedish", "english"), REFUSALS)
async def test_a_refusal_is_said_in_the_visitors_language(
    client: httpx.AsyncClient, path: str, swedish: str, english: str
) -> None:
    sv = await client.get(path, params={"lang": "sv"})
    en = await client.get(path, params={"lang": "en"})
    assert (sv.status_code, en.status_code) == (404, 404)
    assert sv.headers["content-type"].startswith("text/html")
    # The browser tab says what the heading says.
    assert "<title>Sidan finns inte –" in sv.text
    assert "<title>Page not found –" in en.text
    assert swedish in visible_text(sv.text)
    assert english in visible_text(en.text)
    assert swedish not in visible_text(en.text)
    # Never the path's own text: a link anyone can write must not put words on our page.
    assert "no-such" not in visible_text(sv.text)


async def test_the_api_answers_a_refusal_as_a_problem_document(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/events/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["status"] == 404
    assert body["code"] == "not_found"
    assert body["detail"] == "Evenemanget finns inte."


async def test_an_unhandled_error_is_a_500_page_in_the_visitors_language(
    services: Services,
) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("nobody expected this")

    app = create_app(services.settings, services)
    app.router.routes.append(Route("/boom", boom))
    app.router.routes.append(Route("/api/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        sv = await client.get("/boom")
        en = await client.get("/boom", params={"lang": "en"})
        api = await client.get("/api/boom")
    assert (sv.status_code, en.status_code, api.status_code) == (500, 500, 500)
    assert "Något gick fel hos oss." in visible_text(sv.text)
    assert '<html lang="en">' in en.text
    assert "Something went wrong on our side." in visible_text(en.text)
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "server_error"
    assert "nobody expected" not in sv.text + en.text + api.text
    assert sv.headers["x-request-id"]
    assert api.headers["x-request-id"]


async def test_a_refusal_with_an_instant_is_written_in_the_readers_language_and_zone(
    services: Services,
) -> None:
    opens = datetime(2031, 3, 5, 11, 0, tzinfo=UTC)  # 12.00 in Stockholm
    event = await make_event(
        services,
        starts_at=opens + timedelta(days=7),
        ends_at=opens + timedelta(days=7, hours=1),
        registration_opens_at=opens,
    )
    with pytest.raises(BookingClosed) as closed:
        check_bookable(event, opens - timedelta(days=1), tz_name="Europe/Stockholm")
    assert closed.value.message == (
        "Anmälan har inte öppnat än. Den öppnar onsdag 5 mars 2031 kl. 12.00."
    )
    english = closed.value.translated(
        lambda msgid: {"Anmälan har inte öppnat än. Den öppnar %(opens)s.": "Opens %(opens)s."}[
            msgid
        ],
        lambda moment: moment.isoformat(),
    )
    assert english == "Opens 2031-03-05T12:00:00+01:00."


def test_params_fill_the_message_and_fields_and_headers_are_kept() -> None:
    error = DomainError(
        N_("Utskick %(id)s finns inte."), id=7, fields={"a": "b"}, headers={"Retry-After": "3"}
    )
    assert error.message == "Utskick 7 finns inte."
    assert str(error) == "Utskick 7 finns inte."
    assert error.fields == {"a": "b"}
    assert error.headers == {"Retry-After": "3"}


# The catalogue comes from Babel's extractor alone, so every text shown must be marked where it
# is written. These are the ways a text could slip past it.


def _unmarked(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative = path.name

    def literal(node: ast.expr | None) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and literal(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.startswith("MSG_"):
                    found.append(f"{relative}:{node.lineno} {target.id} is not N_(…)")
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in ("errors", "problems", "fields")
                ):
                    found.append(f"{relative}:{node.lineno} field error is not N_(…)")
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "HTTPException" and len(node.args) > 1 and literal(node.args[1]):
                found.append(f"{relative}:{node.lineno} HTTPException detail is not N_(…)")
            # A refusal made with a bare text (operators' errors, such as a bad setting, and
            # Python's own are in English for programmers, and are not refusals).
            if name in _refusals() and node.args and literal(node.args[0]):
                found.append(f"{relative}:{node.lineno} {name} message is not N_(…)")
            if (
                name.startswith("Invalid")
                and node.args
                and isinstance(node.args[0], ast.Dict)
                and any(literal(value) for value in node.args[0].values)
            ):
                found.append(f"{relative}:{node.lineno} field error is not N_(…)")
    return found


def test_every_message_is_marked_where_it_is_written() -> None:
    unmarked = [
        line
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in _unmarked(path)
        if path.name != "extract.py"
    ]
    assert unmarked == []


@functools.cache
def _refusals() -> frozenset[str]:
    return frozenset(cls.__name__ for cls in _domain_errors())


def _domain_errors() -> set[type[DomainError]]:
    for package in PACKAGES:
        for module in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_domain_error_marks_its_message() -> None:
    """No DomainError subclass passes a bare string literal up as its message."""
    bare = []
    for cls in _domain_errors():
        source = textwrap.dedent(inspect.getsource(cls))
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "__init__"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                bare.append(f"{cls.__module__}.{cls.__name__}")
    assert len(_domain_errors()) > 15
    assert bare == []


def test_the_marker_check_finds_an_unmarked_message(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'MSG_X = "Hej."\n'
        'errors["name"] = "Skriv."\n'
        'raise HTTPException(404, "Borta.")\n'
        'raise InvalidEvent({"title": "Saknas."})\n'
        'raise RegistrationError("Evenemanget är inte publicerat.")\n',
        encoding="utf-8",
    )
    assert len(_unmarked(sample)) == 5


def test_the_committed_catalogue_is_what_extraction_finds() -> None:
    """`python -m foundation.locale.extract` would change no message id."""
    with TEMPLATE.open("rb") as pot:
        committed = {str(m.id) for m in read_po(pot) if m.id}
    extracted = {str(m.id) for m in extract_messages(ROOT) if m.id}
    assert sorted(extracted - committed) == [], "run python -m foundation.locale.extract"
    assert sorted(committed - extracted) == [], "run python -m foundation.locale.extract"


async def test_a_librarys_own_words_never_reach_the_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Starlette refuses a multipart body without a boundary in English; the visitor gets
    our sentence in their language instead."""
    event = await make_event(services)
    headers = {"content-type": "multipart/form-data"}
    sv = await client.post(f"/events/{event.id}/book", headers=headers, content=b"x")
    en = await client.post(f"/events/{event.id}/book?lang=en", headers=headers, content=b"x")
    assert (sv.status_code, en.status_code) == (400, 400)
    assert "boundary" not in sv.text.lower()
    assert "boundary" not in en.text.lower()
    assert "Begäran gick inte att ta emot." in visible_text(sv.text)
