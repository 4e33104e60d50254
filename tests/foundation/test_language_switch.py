"""The header's link to the other language opens the same page with the same query (a
search, a filter, a page number), only `lang` replaced; built from the request's path and
parsed query, every part encoded, so no query string makes it say more than that."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The link depends on the request alone.
pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


class Switch(HTMLParser):
    """The href of the header's link with an `hreflang`, as a browser would read it."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("hreflang") and found.get("href") is not None:
            self.found.append(str(found["href"]))


def switch_of(html: str) -> str:
    parser = Switch()
    parser.feed(html)
    (href,) = parser.found
    return href


async def test_the_switch_keeps_the_search_and_the_filter(client: httpx.AsyncClient) -> None:
    guide = await client.get("/guide", params={"q": "för"})
    assert switch_of(guide.text) == "/guide?q=f%C3%B6r&lang=en"
    home = await client.get("/?challenge=forenkling&efter=2026-12-01&lang=sv")
    assert switch_of(home.text) == "/?challenge=forenkling&efter=2026-12-01&lang=en"
    english = await client.get("/?challenge=forenkling&lang=sv&lang=en&page=2")
    assert english.status_code == 200
    # Every `lang` goes; the others stay, in their order.
    assert switch_of(english.text) == "/?challenge=forenkling&page=2&lang=sv"
    # The English page's cookie keeps English; the link offers Swedish back.
    assert switch_of((await client.get("/about")).text) == "/about?lang=sv"


async def test_a_hostile_query_is_carried_encoded_and_says_nothing_more(
    client: httpx.AsyncClient,
) -> None:
    query = (
        'q="><script>alert(1)</script>&x=%0d%0aSet-Cookie:%20a=b'
        "&//evil.example=javascript:alert(1)&lang=javascript:alert(1)"
    )
    page = await client.get(f"/about?{query}")
    assert "<script>alert" not in page.text
    href = switch_of(page.text)
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("", "", "/about")
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("q", '"><script>alert(1)</script>'),
        ("x", "\r\nSet-Cookie: a=b"),
        ("//evil.example", "javascript:alert(1)"),
        ("lang", "en"),
    ]
    assert not set(href) & set(' "<>\\\r\n\t'), href


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4))
async def test_any_query_comes_back_as_it_was_parsed(
    client: httpx.AsyncClient, pairs: list[tuple[str, str]]
) -> None:
    page = await client.get(f"/about?{urlencode(pairs)}")
    href = switch_of(page.text)
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("", "", "/about"), href
    asked = parse_qsl(urlencode(pairs), keep_blank_values=True)
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        *[(k, v) for k, v in asked if k != "lang"],
        ("lang", "en" if page.text.startswith('<!doctype html>\n<html lang="sv"') else "sv"),
    ]
