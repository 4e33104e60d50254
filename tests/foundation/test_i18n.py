"""English next to Swedish: every Swedish message translated, and English pages read as English.

The catalogue is extracted afresh here, as `python -m foundation.locale.extract` does, so a
Swedish text added to a template or to the Python messages without an English translation
fails this test rather than showing up in Swedish on an English page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import httpx
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from babel.support import Translations

from foundation.i18n import LOCALE_DIR, format_datetime, format_span, translations
from foundation.locale.extract import extract_messages
from foundation.services import Services
from lunchkafe.demo import load_demo
from tests.factories import csrf_in

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"
# %(name)s, %(num)d and str.format's {name}: a translation must keep exactly the msgid's.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
ENGLISH_SPAN = re.compile(rf"(?:{WEEKDAYS}) \d{{1,2}} (?:{MONTHS}) \d{{4}}, 12:00–13:00")
# Swedish words from the page's own texts (not the demo's data, which stays Swedish).
SWEDISH_CHROME = ("Kommande", "platser kvar", "plats kvar", "Boka", "Prenumerera", "Kalender<")


def english_catalogue() -> Catalog:
    with PO_PATH.open("rb") as po:
        return read_po(po, locale="en")


def forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return extract_messages(ROOT)


def test_extraction_finds_templates_and_python_messages(extracted: Catalog) -> None:
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in extracted}
    assert len(ids) > 150
    # One of each source: a page, a mail, an ngettext, an MSG_ constant, an error class,
    # a form error in events/schedule.py, an HTTPException detail and the CSRF message.
    for expected in (
        "Kommande lunchkaféer och workshoppar",
        "Hej %(name)s!",
        "%(num)d plats kvar",
        "Skriv ditt namn.",
        "Anmälan finns inte, eller så har länken slutat gälla.",
        "Sluttiden måste vara efter starttiden.",
        "Meddelandet har ingen kalenderinbjudan.",
        "Formuläret har gått ut. Ladda om sidan och försök igen.",
    ):
        assert expected in ids, expected


def test_every_message_has_an_english_translation(extracted: Catalog) -> None:
    english = english_catalogue()
    missing = []
    for message in messages(extracted):
        found = english.get(message.id, message.context)
        if found is None or found.fuzzy or not all(s.strip() for s in forms(found.string)):
            missing.append(message.id)
        elif message.pluralizable and found.id != message.id:
            missing.append(message.id)  # the plural msgid changed
    assert missing == [], (
        "Swedish texts without an English translation: run "
        "`.venv/bin/python -m foundation.locale.extract` and translate them in "
        f"{PO_PATH.relative_to(ROOT)}"
    )


def test_plural_messages_have_both_english_forms() -> None:
    plurals = [m for m in messages(english_catalogue()) if m.pluralizable]
    assert plurals
    for message in plurals:
        one, other = forms(message.string)
        assert one != other, message.id


def test_translations_keep_the_placeholders() -> None:
    for message in messages(english_catalogue()):
        wanted = placeholders(forms(message.id)[-1])
        for text in forms(message.string):
            assert placeholders(text) == wanted, (message.id, text)
            # Jinja's newstyle gettext always %-formats, so a stray % would break the page.
            assert "%" not in PLACEHOLDER.sub("", text).replace("%%", ""), text


def test_templates_have_no_text_outside_gettext() -> None:
    leftovers = {}
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix not in (".html", ".txt"):
            continue
        text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", path.read_text(), flags=re.S)
        attributes = re.findall(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"', text)
        text = re.sub(r"<[^>]*>|&#?\w+;", " ", text)
        words = re.findall(r"[^\W\d_][\w.-]*", text + " " + " ".join(attributes))
        # Each language's name is written in that language, whatever the page's language.
        words = [word for word in words if word not in ("English", "Svenska")]
        if words:
            leftovers[str(path.relative_to(ROOT))] = words
    assert leftovers == {}, "wrap these texts in _() so they can be translated"


def test_english_catalogue_is_compiled_in_memory_from_the_po() -> None:
    english = translations("en")
    assert isinstance(english, Translations)
    assert english.gettext("INSTÄLLT:") == "CANCELLED:"
    assert english.gettext("Utvecklingsguiden") == "The Development Guide"
    assert english.ngettext("%(num)d plats kvar", "%(num)d platser kvar", 1) == "%(num)d seat left"
    assert english.ngettext("%(num)d plats kvar", "%(num)d platser kvar", 3) == "%(num)d seats left"
    assert translations("en") is english  # compiled once per process
    swedish = translations("sv")
    assert swedish.gettext("INSTÄLLT:") == "INSTÄLLT:"
    # An unknown text falls back to the Swedish id, never to a key.
    assert english.gettext("Ingen sådan text") == "Ingen sådan text"


def test_dates_read_naturally_in_each_language() -> None:
    starts = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    ends = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    tz = "Europe/Stockholm"
    assert format_span(starts, ends, tz, "en") == "Wednesday 2 December 2026, 12:00–13:00"
    assert format_span(starts, ends, tz) == "onsdag 2 december 2026, kl. 12.00–13.00"
    assert format_datetime(starts, tz, "en") == "Wednesday 2 December 2026 at 12:00"


def visible_text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)))


async def test_english_home_page(services: Services, client: httpx.AsyncClient) -> None:
    await load_demo(services, only_if_empty=False)
    response = await client.get("/?lang=en")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    text = visible_text(html)
    for english in (
        "Upcoming lunch cafés and workshops",
        "Subscribe to all lunch cafés and workshops in your calendar",
        "Calendar",
        "The Development Guide",
        "seats left",
        "All times are Swedish time.",
    ):
        assert english in text, english
    for swedish in SWEDISH_CHROME:
        assert swedish not in html, swedish
    assert ENGLISH_SPAN.search(text), "dates like 'Wednesday 2 December 2026, 12:00–13:00'"
    assert " kl. " not in text
    # The choice sticks in a cookie until the visitor switches back.
    assert response.cookies.get("lk_lang") == "en"
    assert "Upcoming lunch cafés" in (await client.get("/")).text
    assert "Kommande lunchkaféer" in (await client.get("/?lang=sv")).text


async def test_swedish_is_the_default(services: Services, client: httpx.AsyncClient) -> None:
    await load_demo(services, only_if_empty=False)
    html = (await client.get("/")).text
    assert '<html lang="sv">' in html
    text = visible_text(html)
    assert "Kommande lunchkaféer och workshoppar" in text
    assert "platser kvar" in text
    assert re.search(r"(?:mån|tis|ons|tors|fre|lör|sön)dag \d{1,2} \w+ \d{4}, kl\. 12\.00", text)
    assert "Upcoming" not in text


async def test_booking_errors_are_shown_in_english(
    services: Services, client: httpx.AsyncClient
) -> None:
    await load_demo(services, only_if_empty=False)
    home = (await client.get("/?lang=en")).text
    event_path = re.findall(r'href="(?:http://testserver)?(/events/\d+)"', home)[0]
    page = (await client.get(event_path)).text  # the lk_lang and lk_csrf cookies are set
    assert "Book a seat" in page
    token = csrf_in(page)
    response = await client.post(
        f"{event_path}/book",
        data={"csrf_token": token, "name": " ", "email": "not an address"},
    )
    assert response.status_code == 422
    text = visible_text(response.text)
    assert "There is a problem with the form" in text
    assert "Enter your name." in text
    assert "Enter a valid email address, for example name@municipality.se." in text
    assert "To book, you need to agree to how we handle your personal data." in text
    for swedish in ("Skriv ditt namn", "Det finns fel", "Boka plats"):
        assert swedish not in text, swedish

    # An expired form is explained in English too.
    expired = await client.post(f"{event_path}/book", data={"csrf_token": "forged"})
    assert expired.status_code == 403
    assert "The form has expired. Reload the page and try again." in visible_text(expired.text)
