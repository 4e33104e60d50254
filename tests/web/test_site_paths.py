"""Absolute URLs come from route names and BASE_URL (foundation.site_paths), written once."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route

from foundation.services import Services
from foundation.site_paths import ROUTES, path, url
from lunchkafe.app import create_app

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
SAMPLE: dict[str, str | int] = {
    "event_id": 42,
    "slug": "lunchkafe-om-forenkling",
    "token": "AbC-123_xyz",
}


def test_every_named_path_is_the_apps_route(services: Services) -> None:
    app = create_app(services.settings, services)
    routes = {r.name: r for r in app.routes if isinstance(r, Route)}
    for name, declared in ROUTES.items():
        assert name in routes, name
        assert routes[name].path == declared, name
        params: dict[str, str | int] = {p: SAMPLE[p] for p in routes[name].param_convertors}
        assert app.url_path_for(name, **params) == path(name, **params)


def test_an_absolute_url_is_under_base_url() -> None:
    assert url("https://lunchkafe.example.se", "event", event_id=7) == (
        "https://lunchkafe.example.se/events/7"
    )
    assert url("https://x.example/", "feed_personal", token="t") == "https://x.example/feeds/t.ics"
    with pytest.raises(KeyError):
        path("event")  # its id is missing
    with pytest.raises(TypeError):
        path("home", token="t")


@given(st.text(min_size=1, max_size=40))
def test_a_parameter_stays_inside_its_segment(value: str) -> None:
    built = path("manage", token=value)
    assert built.startswith("/manage/")
    assert "/" not in built.removeprefix("/manage/")
    assert "?" not in built
    assert "#" not in built


def test_no_absolute_url_is_written_by_hand() -> None:
    """No f-string glues a path onto BASE_URL; no template spells out a linked path."""
    by_hand = re.compile(r"f[\"'][^\"']*\{[^}]*base[^}]*\}/")
    found = [
        f"{source.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for source in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
        if by_hand.search(line)
    ]
    spelled = re.compile(r"[\"'](?:/feeds/|/calendar\.ics|/manage/|/events/|/series/|/guide/)")
    found += [
        f"{template.relative_to(ROOT)}:{number}"
        for template in sorted((ROOT / "templates").rglob("*.*"))
        if template.suffix in (".html", ".txt")
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1)
        if spelled.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("slug", ["a%00b", "A-B", "å", "a%2Fb", "a.b", "x" * 81, "%C0%AF", "a%20b"])
async def test_a_segment_that_is_no_slug_is_a_calm_404(
    client: httpx.AsyncClient, slug: str
) -> None:
    """On PostgreSQL a NUL reached the query and failed it (a 500); now no route matches."""
    for page in (
        f"/series/{slug}",
        f"/series/{slug}/calendar.ics",
        f"/series/{slug}/received",
        f"/guide/{slug}",
    ):
        response = await client.get(page)
        assert response.status_code == 404, page
    posted = await client.post(f"/series/{slug}/book", data={"name": "x"})
    assert posted.status_code == 404
