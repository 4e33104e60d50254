"""405 answers are whole and in the page's language, on every path of the route table.

Several paths are served by two routes (a page by GET, its form's action by POST); `Allow`
must list every method any route at the path accepts (RFC 9110 §15.5.6), not only the
first route's. Pages answer with the site's own error page in the visitor's language; the
API with an RFC 9457 problem document.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.routing import Route

from foundation.error_pages import MSG_METHOD_NOT_ALLOWED
from foundation.rendering import LANGUAGE_COOKIE
from foundation.services import Services
from lunchkafe.app import create_app

ODD_METHODS = ("PUT", "DELETE", "PATCH", "POST", "GET")
# A value for each kind of path parameter: an id, a slug, a token, anything else.
SAMPLES = ("1", "cafe", "A" * 43, "a.b")


@pytest.fixture
async def calm_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def paths_and_methods(services: Services) -> dict[str, set[str]]:
    """Each path of the route table (parameters filled with a value their convertor takes)
    → every method the routes at that path accept."""
    app = create_app(services.settings, services)
    found: dict[str, set[str]] = defaultdict(set)
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        path = route.path
        for name, convertor in route.param_convertors.items():
            value = next(v for v in SAMPLES if re.fullmatch(convertor.regex, v))
            path = re.sub(r"\{" + name + r"(:\w+)?\}", value, path)
        found[path] |= set(route.methods or {"GET", "HEAD"})
    return dict(found)


def test_the_walk_meets_paths_served_by_two_routes(services: Services) -> None:
    table = paths_and_methods(services)
    assert len(table) > 40
    assert table["/organiser/events/1/change"] >= {"GET", "POST"}


async def test_every_405_lists_every_method_the_path_accepts(
    services: Services, calm_client: httpx.AsyncClient
) -> None:
    wrong: list[tuple[str, str, str]] = []
    for path, methods in sorted(paths_and_methods(services).items()):
        method = next(m for m in ODD_METHODS if m not in methods)
        response = await calm_client.request(method, path)
        assert response.status_code == 405, (method, path, response.status_code)
        allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
        if allowed != methods:
            wrong.append((path, response.headers.get("allow", ""), ", ".join(sorted(methods))))
        if path.startswith("/api/"):
            assert response.headers["content-type"] == "application/problem+json", path
            assert response.json()["status"] == 405
        else:
            assert response.headers["content-type"].startswith("text/html"), path
            assert "Method Not Allowed" not in response.text, path
    assert wrong == []


def post_only_paths(services: Services) -> list[str]:
    """Every path of the route table that only a form's POST (or the API's) is sent to: a
    link followed, a reload or a typed address reaches it with GET."""
    return sorted(
        path for path, methods in paths_and_methods(services).items() if methods == {"POST"}
    )


async def test_a_get_of_a_forms_action_is_the_sites_page_in_the_visitors_language(
    services: Services, calm_client: httpx.AsyncClient
) -> None:
    paths = post_only_paths(services)
    pages = [p for p in paths if not p.startswith("/api/")]
    # The walk meets the forms' actions of the public, attendee and organiser sides.
    assert {"/events/1/book", "/series/1/book", "/organiser/logout"} <= set(pages)
    assert "/organiser/events/1/publish" in pages
    assert len(pages) > 15
    for path in pages:
        calm_client.cookies.clear()
        swedish = await calm_client.get(path)
        by_query = await calm_client.get(path, params={"lang": "en"})
        calm_client.cookies.clear()
        calm_client.cookies.set(LANGUAGE_COOKIE, "en")
        by_cookie = await calm_client.get(path)
        calm_client.cookies.clear()
        for response in (swedish, by_query, by_cookie):
            assert response.status_code == 405, (path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), path
            assert "Method Not Allowed" not in response.text, path
            assert "<h1>" in response.text, path  # the site's page, not a bare phrase
        assert '<html lang="sv"' in swedish.text, path
        assert "Sidan finns, men den går inte att använda på det sättet." in swedish.text, path
        assert "Något gick fel" in swedish.text, path
        assert "Till kalendern" in swedish.text, path
        for english in (by_query, by_cookie):
            assert '<html lang="en"' in english.text, path
            assert "The page exists, but it cannot be used that way." in english.text, path
            assert "Sidan finns" not in english.text, path
            assert "Till kalendern" not in english.text, path
    for path in paths:
        if path.startswith("/api/"):
            response = await calm_client.get(path)
            assert response.status_code == 405, path
            assert response.headers["content-type"] == "application/problem+json", path
            assert response.json()["status"] == 405, path
            assert response.json()["detail"] == MSG_METHOD_NOT_ALLOWED, path
