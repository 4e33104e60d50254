"""Every page names the site's icon, and /favicon.ico (which browsers ask for anyway)
answers it, cached, instead of a 404."""

from __future__ import annotations

import httpx


async def test_pages_name_the_icon_and_favicon_ico_answers_it(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in home.text
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg")
    old = await client.get("/favicon.ico")
    assert old.status_code == 200
    assert old.headers["content-type"].startswith("image/svg+xml")
    assert old.content == icon.content
    assert old.headers["cache-control"] == "public, max-age=604800"
