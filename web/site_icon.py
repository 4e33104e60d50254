"""The site's icon. Pages name it (`<link rel="icon">` in templates/base.html); browsers
that ask for /favicon.ico anyway, as most do once per site, get the same icon there instead
of a 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

import templates

ICON = templates.DIRECTORY / "static" / "favicon.svg"
# A week: the icon seldom changes, and a browser asks for /favicon.ico on every visit.
CACHED_FOR = 7 * 24 * 3600


async def favicon(request: Request) -> Response:
    """The icon itself (SVG, which browsers take at this address too), cached."""
    return FileResponse(
        ICON,
        media_type="image/svg+xml",
        headers={"cache-control": f"public, max-age={CACHED_FOR}"},
    )


routes = [Route("/favicon.ico", favicon, name="favicon")]
