"""organisers.access: where signing in leads. After an idle timeout a form's POST sends the
organiser to sign in; the page they return to is always one a browser can open (a GET
workspace page), never the form's action, which would answer 405."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.routing import Route

from foundation.services import Services
from lunchkafe.app import create_app
from tests.factories import csrf_in, make_series
from tests.signing_in import add, sign_in


def gated_posts(services: Services) -> list[str]:
    """Every workspace form's action any organiser may post to, its ids filled with 1."""
    return [
        re.sub(r"\{[^}]+\}", "1", route.path)
        for route in create_app(services.settings, services).routes
        if isinstance(route, Route)
        and getattr(route.endpoint, "gated", False)
        and getattr(route.endpoint, "required_role", None) is None
        and "POST" in (route.methods or ())
    ]


def next_of(location: str) -> str:
    (target,) = parse_qs(urlsplit(location).query)["next"]
    return target


async def test_every_gated_post_sends_the_anonymous_to_a_page_they_can_open(
    services: Services, client: httpx.AsyncClient
) -> None:
    await make_series(services, events=1)
    token = csrf_in((await client.get("/organiser/login")).text)
    targets = {}
    for path in gated_posts(services):
        answer = await client.post(path, data={"csrf_token": token})
        assert answer.status_code == 303, path
        targets[path] = next_of(answer.headers["location"])
    assert targets["/organiser/series/1/examples"] == "/organiser/series/1"
    assert targets["/organiser/series/1/dates"] == "/organiser/series/1"
    await add(services, "anna@myndigheten.example.se")
    assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303
    for path, target in targets.items():
        opened = await client.get(target)
        assert opened.status_code in (200, 404), (path, target, opened.status_code)
        assert opened.status_code != 405


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/organiser/series/1/examples/remove", "/organiser/series/1"),
        ("/organiser/series/1/dates", "/organiser/series/1"),
        ("/organiser/series/1/registration", "/organiser/series/1/registration"),
        ("/organiser/events/1/attendees", "/organiser/events/1/attendees"),
        ("/organiser/nowhere/at/all", "/organiser/"),
        ("/organiser/logout", "/organiser/"),
        ("/organiser/login", "/organiser/"),
    ],
)
async def test_signing_in_follows_next_only_to_a_page(
    services: Services, client: httpx.AsyncClient, asked: str, lands: str
) -> None:
    await add(services, "anna@myndigheten.example.se")
    signed = await sign_in(client, "anna@myndigheten.example.se", next_path=asked)
    assert signed.headers["location"] == lands
