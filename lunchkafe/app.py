"""The Starlette application: routes from each package, errors, headers, static files."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from python_multipart.exceptions import FormParserError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

import templates
from foundation.body_limit import BodyLimit
from foundation.cors import PublicReads
from foundation.error_pages import (
    DATABASE_ERRORS,
    ErrorsInsideStarlette,
    bad_form,
    database_unreachable,
    domain_error,
    http_error,
    server_error,
)
from foundation.errors import DomainError
from foundation.request_log import RequestLog
from foundation.response_headers import HeaderPolicy, SecurityHeaders
from foundation.services import Services
from foundation.settings import Settings
from foundation.site_origin import SiteOrigin
from web import (
    api_docs,
    attendee_calendar,
    booking_api,
    booking_pages,
    event_api,
    event_calendar,
    event_pages,
    guide_api,
    guide_pages,
    guide_share,
    health,
    mailbox_pages,
    metrics,
    my_data_pages,
    organiser_accounts,
    organiser_api,
    organiser_attendees,
    organiser_audit,
    organiser_changes,
    organiser_erasure,
    organiser_events,
    organiser_guide,
    organiser_messages,
    organiser_pages,
    organiser_proposals,
    organiser_series,
    organiser_tokens,
    service_pages,
    site_icon,
)

STATIC_DIR = templates.DIRECTORY / "static"


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Build the app; `services` may be handed in by tests or the command line."""
    built = services or Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from workers.runner import start_job_runner  # the runner depends on settings

        stop = await start_job_runner(built)
        # Everything loaded so far (modules, the routes, SQLAlchemy's and pydantic's tables)
        # lives as long as the process: out of the collector's sight, a full collection
        # takes about 4 ms instead of 100-150, which under a rush of bookings were the p99
        # (issue 11; gc.freeze is the standard library's own answer to this). Garbage is
        # collected first, so none of it is kept for good.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await stop()
            await built.close()

    routes = [
        *event_calendar.routes,
        *attendee_calendar.routes,
        *event_pages.routes,
        *booking_pages.routes,
        *guide_api.routes,
        *guide_share.routes,  # before guide_pages: /guide/share is no example's slug
        *guide_pages.routes,
        *service_pages.routes,
        *mailbox_pages.routes,
        *my_data_pages.routes,
        *organiser_pages.routes,
        *organiser_changes.routes,
        *organiser_accounts.routes,
        *organiser_attendees.routes,
        *organiser_messages.routes,
        *organiser_proposals.routes,
        *organiser_guide.routes,
        *organiser_erasure.routes,
        *organiser_events.routes,
        *organiser_series.routes,
        *organiser_audit.routes,
        *organiser_tokens.routes,
        *organiser_api.routes,
        *event_api.routes,
        *booking_api.routes,
        *api_docs.routes,
        *health.routes,
        *metrics.routes,
        *site_icon.routes,
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    header_policy = HeaderPolicy(https=settings.base_url.startswith("https://"))
    # Errors inside the middleware: a 500 carries the same headers as any page.
    app = ErrorsInsideStarlette(
        routes=routes,
        middleware=[
            # Outermost first: links built from BASE_URL; every answer's security headers;
            # CORS for the API's public reads; bodies capped before any route reads them.
            Middleware(SiteOrigin, base_url=settings.base_url),
            Middleware(SecurityHeaders, policy=header_policy),
            Middleware(PublicReads, routes=routes),
            Middleware(BodyLimit),
        ],
        exception_handlers={
            HTTPException: http_error,
            FormParserError: bad_form,
            DomainError: domain_error,  # every refusal no handler answered itself
            # The database away: 503 and Retry-After, not a 500 (foundation.outage).
            **dict.fromkeys(DATABASE_ERRORS, database_unreachable),
            Exception: server_error,
        },
        header_policy=header_policy,
        # Around everything, the last-resort 500 included: request ids, one access line each.
        around=[Middleware(RequestLog, routes=routes)],
        lifespan=lifespan,
    )
    app.state.services = built
    return app
