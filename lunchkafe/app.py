"""The Starlette application: routes from each package, errors, headers, static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from python_multipart.exceptions import FormParserError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events import api as events_api
from events import calendar_routes as events_calendar
from events import routes as events_routes
from guide import routes as guide_routes
from lunchkafe.body_limit import BodyLimit, BodyTooLarge, body_too_large
from lunchkafe.error_pages import ErrorsInsideStarlette, bad_form, http_error, server_error
from lunchkafe.openapi import openapi_document
from lunchkafe.private_urls import PrivateUrls
from lunchkafe.services import Services
from lunchkafe.settings import Settings
from lunchkafe.site_origin import SiteOrigin
from mail import routes as mail_routes
from registrations import api as registrations_api
from registrations import calendar_routes as registrations_calendar
from registrations import routes as registrations_routes
from workers import health

STATIC_DIR = Path(__file__).resolve().parent.parent / "templates" / "static"

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # Manage links carry a secret in the path; never leak it to another site.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Build the app; `services` may be handed in by tests or the command line."""
    built = services or Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from workers.runner import start_job_runner  # the runner depends on settings

        stop = await start_job_runner(built)
        try:
            yield
        finally:
            await stop()
            await built.close()

    routes = [
        *events_calendar.routes,
        *registrations_calendar.routes,
        *events_routes.routes,
        *registrations_routes.routes,
        *guide_routes.routes,
        *mail_routes.routes,
        *events_api.routes,
        *registrations_api.routes,
        Route("/api/openapi.json", openapi_document),
        *health.routes,
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    # Errors inside the middleware: a 500 carries the same headers as any page.
    app = ErrorsInsideStarlette(
        routes=routes,
        middleware=[
            # Outermost first: links built from BASE_URL; token URLs' headers replace the
            # site-wide ones; bodies capped before any route reads them.
            Middleware(SiteOrigin, base_url=settings.base_url),
            Middleware(PrivateUrls),
            Middleware(SecurityHeaders),
            Middleware(BodyLimit),
        ],
        exception_handlers={
            HTTPException: http_error,
            FormParserError: bad_form,
            BodyTooLarge: body_too_large,
            Exception: server_error,
        },
        fallback_headers=SECURITY_HEADERS,
        lifespan=lifespan,
    )
    app.state.services = built
    return app
