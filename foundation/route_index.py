"""Which routes could answer a path, found by its leading segments instead of by trying all.

Starlette's router tries every route's regular expression in order until one matches, and
the access log (foundation.request_log) matched again to name the route. With some 170 routes,
a booking at /api/… tried over a hundred patterns twice: about a fifth of the web process's
CPU under a rush of bookings (py-spy, issue 11). Most patterns begin with literal segments
(`/organiser/events/{id}`), and a route can only match a path whose segments begin with its
own literal ones. So the routes are grouped once by their first two literal segments, and a
path is tried only against the routes of its group, still in their order: the same route
wins as before, since every route left out could not have matched.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

DEPTH = 2  # literal segments indexed: /organiser/events/… and /api/v1/… split their many routes


def _literal_prefix(route: BaseRoute) -> tuple[str, ...]:
    """The route's leading segments that hold no parameter, at most DEPTH; () for a route
    this cannot tell about (a Host, a custom BaseRoute), which is tried for every path."""
    if not isinstance(route, Route | Mount):
        return ()
    prefix: list[str] = []
    for segment in route.path_format.split("/")[1 : DEPTH + 1]:
        if "{" in segment:
            break
        prefix.append(segment)
    return tuple(prefix)


def leading_segments(path: str) -> tuple[str, ...]:
    """The first DEPTH segments of `path`: `/api/v1/events/5` → ("api", "v1"), `/` → ("",).
    A final line feed is not part of them: a route's pattern ends in `$`, which Python's re
    lets match before one, so `/guide/share%0A` is Starlette's `/guide/share` too."""
    if path.endswith("\n"):
        path = path[:-1]
    return tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])


class RouteIndex:
    """`candidates(path)`: the routes whose literal leading segments `path` begins with, in
    the order given. Built once from `routes`, keyed by the routes' own segments only, so
    paths full of tokens add nothing to it."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = routes
        self.size = len(routes)
        prefixes = [_literal_prefix(route) for route in routes]
        keys = {prefix[:length] for prefix in prefixes for length in range(1, len(prefix) + 1)}
        self._by_key = {key: self._fitting(prefixes, key) for key in keys}
        self._anywhere = self._fitting(prefixes, ())

    def _fitting(self, prefixes: list[tuple[str, ...]], key: tuple[str, ...]) -> list[BaseRoute]:
        """Every route a path whose leading segments are `key` could match: one whose
        literal prefix is a prefix of `key` (a longer one needs segments the path lacks or
        that differ)."""
        return [
            route
            for route, prefix in zip(self.routes, prefixes, strict=True)
            if key[: len(prefix)] == prefix and len(prefix) <= len(key)
        ]

    def candidates(self, path: str) -> list[BaseRoute]:
        key = leading_segments(path)
        while key:
            found = self._by_key.get(key)
            if found is not None:
                return found
            key = key[:-1]  # (organiser, <a token>) → the routes under /organiser alone
        return self._anywhere


class IndexedRouter(Router):
    """Starlette's Router, trying only `RouteIndex.candidates` of a path (same order, same
    winner, same 405 and trailing-slash redirect). Routes added later rebuild the index."""

    _index: RouteIndex | None = None

    @property
    def index(self) -> RouteIndex:
        index = self._index
        # Identity and length, not equality: a Route's __eq__ would cost what the index saves.
        if index is None or index.routes is not self.routes or index.size != len(self.routes):
            index = self._index = RouteIndex(self.routes)
        return index

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        partial = partial_scope = None
        for route in self.index.candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:
            assert partial_scope is not None
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        # Nothing here: Starlette's own walk decides the redirect to the other spelling of a
        # trailing slash, and the 404. Rare, so its cost does not matter.
        await super().app(scope, receive, send)
