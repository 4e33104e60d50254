"""Who runs the service, how it handles personal data, and how accessible it is.

Three pages linked from every page's footer and every mail's: "Om tjänsten" (`/about`), the
privacy notice (`/privacy`, GDPR art. 13: the controller, its data-protection officer, the
purposes and legal basis, every field collected, who sees it, how long it is kept, the
rights and the supervisory authority) and the accessibility statement (`/accessibility`,
lag 2018:1937 om tillgänglighet till digital offentlig service, 16 §, in the form of Digg's
model). Each is written from the settings (foundation.settings: AGENCY_NAME and its kin,
RETENTION_DAYS) and reads nothing else, so it is the same in every process.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.rendering import render
from foundation.site_paths import ROUTES

# When the accessibility statement was last reviewed against the product, and the state of
# the tests it describes (lag 2018:1937, 16 §: the statement is kept up to date).
STATEMENT_REVIEWED = datetime(2026, 11, 30, 12, tzinfo=UTC)


async def about(request: Request) -> Response:
    return render(request, "service/about.html", {})


async def privacy(request: Request) -> Response:
    names = {getattr(route, "name", None) for route in request.app.routes}
    # The self-service page for one's own data, where this version has one.
    self_service = next((name for name in ("my_data",) if name in names), None)
    return render(request, "service/privacy.html", {"self_service": self_service})


async def accessibility(request: Request) -> Response:
    return render(request, "service/accessibility.html", {"reviewed": STATEMENT_REVIEWED})


routes = [
    Route(ROUTES["about"], about, name="about"),
    Route(ROUTES["privacy"], privacy, name="privacy"),
    Route(ROUTES["accessibility"], accessibility, name="accessibility"),
]
