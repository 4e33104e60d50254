"""The audit log, for admins: who did what in the workspace, newest first, a page at a time."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.ids import parse_id
from foundation.rendering import page_link, render
from foundation.services import services
from organisers import audit, audit_reading
from organisers.access import current, requires
from organisers.models import Role


def _before(request: Request) -> int | None:
    """`?before=<id>`: where the page starts (None: at the newest). A value that is no
    id is read as 0, which names no entry, so the page says the log has none there."""
    raw = request.query_params.get("before")
    if raw is None or raw == "":
        return None
    return parse_id(raw) or 0


def _link(request: Request, **query: str | int) -> str:
    base = page_link(request, "organiser_audit")
    given = {name: value for name, value in query.items() if value not in ("", None)}
    return f"{base}?{urlencode(given)}" if given else base


@requires(Role.ADMIN)
async def audit_log(request: Request) -> Response:
    before = _before(request)
    action = request.query_params.get("action", "")[: audit.MAX_ACTION]
    async with services(request).transaction() as session:
        log = await audit_reading.readable_page(session, before=before, action=action or None)
    response = render(
        request,
        "organiser/audit/log.html",
        {
            "organiser": current(request),
            "log": log,
            "action": action,
            "before": before,
            "newest": _link(request, action=action),
            "older": _link(request, before=log.older, action=action) if log.older else None,
        },
    )
    response.headers["cache-control"] = "private, no-store"
    return response


routes = [Route("/organiser/audit", audit_log, name="organiser_audit")]
