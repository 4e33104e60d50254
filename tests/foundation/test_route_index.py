"""The indexed router answers every path with the route Starlette's own router would pick.

foundation.route_index tries only the routes whose literal leading segments a path begins
with (issue 11: the linear walk over some 170 patterns was a fifth of a booking's CPU). The
property: for any method and any path, made from the app's real route templates with any
values, cut short, lengthened, given or stripped of a trailing slash, or made up, the
index's first full match (else first partial, the 405) is the walk's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from foundation.request_log import route_template
from foundation.route_index import IndexedRouter, RouteIndex
from foundation.settings import Settings
from lunchkafe.app import create_app

PARAMETER = re.compile(r"\{[^}]*\}")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SEGMENT = st.sampled_from(["", "1", "0", "abc", "ny", "en", "static", "2026-12-01", "x.ics", "%20"])


def _routes(tmp_path: Path) -> list[BaseRoute]:
    settings = Settings.from_environ({"VAR_DIR": str(tmp_path)})
    return list(create_app(settings).router.routes)


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[BaseRoute]:
    return _routes(tmp_path_factory.mktemp("routes"))


def _picked(routes: Iterable[BaseRoute], scope: Scope) -> tuple[BaseRoute | None, Match]:
    """Starlette's Router.app over `routes`: the first full match, else the first partial."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route, match
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial, Match.PARTIAL if partial is not None else Match.NONE


def _templates(routes: list[BaseRoute]) -> list[str]:
    return [r.path_format for r in routes if isinstance(r, Route | Mount)]


@st.composite
def paths(draw: st.DrawFn, templates: list[str]) -> str:
    template = draw(st.sampled_from(templates))
    path = PARAMETER.sub(lambda _: draw(SEGMENT), template) or "/"
    segments = path.split("/")
    how = draw(st.sampled_from(["as is", "shorter", "longer", "slash", "made up"]))
    if how == "shorter" and len(segments) > 2:
        segments = segments[: draw(st.integers(1, len(segments) - 1))]
    elif how == "longer":
        segments += draw(st.lists(SEGMENT, min_size=1, max_size=2))
    elif how == "made up":
        segments = ["", *draw(st.lists(SEGMENT | st.text(max_size=8), max_size=4))]
    path = "/".join(segments) or "/"
    if how == "slash":
        path = path.rstrip("/") if path.endswith("/") and path != "/" else path + "/"
    return path


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_path_gets_the_route_starlettes_walk_would_pick(
    routes: list[BaseRoute], data: st.DataObject
) -> None:
    path = data.draw(paths(_templates(routes)))
    method = data.draw(st.sampled_from(METHODS))
    if data.draw(st.booleans()):
        path += data.draw(st.sampled_from(["\n", "\n\n", "\r\n", "%0A"]))
    _assert_same_pick(routes, method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/guide/share\n"), ("GET", "/feeds/replaced\n"), ("GET", "/guide\n")],
)
def test_a_final_line_feed_picks_what_starlette_picks(
    routes: list[BaseRoute], method: str, path: str
) -> None:
    """A route's pattern ends in `$`, which matches before a final line feed (uvicorn
    decodes %0A into the path): found by a review, the index had named another route."""
    _assert_same_pick(routes, method, path)
    scope: Scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    assert route_template(RouteIndex(routes), scope) == _template(_picked(routes, scope)[0])


def _assert_same_pick(routes: list[BaseRoute], method: str, path: str) -> None:
    index = RouteIndex(routes)
    scope: Scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    assert _picked(index.candidates(path), scope) == _picked(routes, scope), path


def _template(route: BaseRoute | None) -> str:
    return route.path_format if isinstance(route, Route | Mount) else "<unmatched>"


def test_a_booking_tries_a_handful_of_routes_not_all(routes: list[BaseRoute]) -> None:
    """The point of the index: the API's and a page's paths have few candidates."""
    index = RouteIndex(routes)
    assert len(routes) > 100
    for path in ("/api/events/7/registrations", "/events/7", "/feeds/abc.ics", "/"):
        assert len(index.candidates(path)) <= 25, path


def test_the_access_log_names_the_template_the_router_used(routes: list[BaseRoute]) -> None:
    index = RouteIndex(routes)
    for path, method, template in [
        ("/api/events/7/registrations", "POST", "/api/events/{event_id}/registrations"),
        ("/manage/sometoken", "GET", "/manage/{token}"),
        ("/static/site.css", "GET", "/static/{path}"),
        ("/no/such/page", "GET", "<unmatched>"),
    ]:
        scope: Scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        assert route_template(index, scope) == template


async def test_the_app_answers_through_the_index_and_routes_added_later(tmp_path: Path) -> None:
    """The app's router is the indexed one; a route added after the first request is found
    (the index is rebuilt), and the 405 and trailing-slash redirect are Starlette's."""
    settings = Settings.from_environ({"VAR_DIR": str(tmp_path)})
    app = create_app(settings)
    assert isinstance(app.router, IndexedRouter)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/late")).status_code == 404

        async def late(_request: object) -> httpx.Response:
            from starlette.responses import PlainTextResponse

            return PlainTextResponse("sent")  # type: ignore[return-value]

        app.router.routes.append(Route("/late", late))
        assert (await client.get("/late")).text == "sent"
        assert (await client.put("/healthz")).status_code == 405
        moved = await client.get("/about/")
        assert moved.status_code in (307, 308)
        assert moved.headers["location"].endswith("/about")
