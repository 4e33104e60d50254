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


async def test_a_get_of_a_forms_action_is_the_sites_page_in_the_visitors_language(
    services: Services, calm_client: httpx.AsyncClient
) -> None:
    for path in ("/organiser/login", "/organiser/logout", "/events/1/book"):
        calm_client.cookies.clear()
        swedish = await calm_client.request("PUT", path)
        english = await calm_client.request("PUT", path, params={"lang": "en"})
        assert (swedish.status_code, english.status_code) == (405, 405)
        assert "Sidan finns, men den går inte att använda på det sättet." in swedish.text
        assert 'lang="en"' in english.text
        assert "Sidan finns" not in english.text
        assert "Method Not Allowed" not in english.text
