"""Pages: Jinja2 with autoescape and gettext, the request's language, and CSRF tokens."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import markupsafe
import sqlalchemy
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, NoMatchFound, Router

import templates
from foundation import csrf
from foundation.errors import DomainError, FilledMessage
from foundation.i18n import (
    LANGUAGES,
    format_clock,
    format_date_long,
    format_datetime,
    format_span,
    translations,
)
from foundation.markdown import to_html
from foundation.services import services
from foundation.typed_times import repeated_choice

TEMPLATE_DIR = templates.DIRECTORY
LANGUAGE_COOKIE = "lk_lang"
# The language organisers write in: events, series and the guide are Swedish on every page.
CONTENT_LANGUAGE = "sv"


def content_lang(language: str) -> markupsafe.Markup:
    """The attribute an element holding organisers' text carries on a page in `language`:
    ` lang="sv"` where the page is in another language (WCAG 3.1.2 Language of parts), so a
    screen reader speaks it in Swedish; nothing on a Swedish page. In a template:
    `<h1{{ in_swedish }}>{{ event.title }}</h1>`."""
    if language == CONTENT_LANGUAGE:
        return markupsafe.Markup("")
    return markupsafe.Markup(' lang="%s"') % CONTENT_LANGUAGE


@cache
def environment(language: str) -> jinja2.Environment:
    """One environment per language, so `{% trans %}` and `_()` use that catalogue."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Each template is read once per process: checking every file's time on every page
        # costs a stat per template. When developing, `lunchkafe serve --reload` restarts
        # the server on a changed template instead.
        auto_reload=False,
    )
    catalogue = translations(language)

    def gettext(message: str) -> str:
        if isinstance(message, FilledMessage):
            # Filled now, in this language; `%` doubled, since newstyle gettext formats the
            # result once more (with no variables).
            return message.translated(catalogue.gettext, language).replace("%", "%%")
        return catalogue.gettext(message)

    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext,
        catalogue.ngettext,
        newstyle=True,
        pgettext=catalogue.pgettext,
        npgettext=catalogue.npgettext,
    )
    # An organiser's Markdown, rendered and sanitised (foundation.markdown): `x | markdown`.
    env.filters["markdown"] = to_html
    env.globals["in_swedish"] = content_lang(language)
    return env


def language_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if asked in LANGUAGES:
        return asked
    return services(request).settings.default_language


def language_switch(request: Request, language: str) -> str:
    """The link to the page being shown, in `language`: its path and query, `lang` replaced.

    A page shown after a POST (form errors) lives at ".../book"; the link opens the page the
    form is on, without the query. Path-absolute from a safe path: one leading slash ("//host"
    names another site) and the path percent-encoded, since browsers read "\\" as "/" and
    drop tabs and newlines (WHATWG URL), so "/\\evil.example" would name another site too;
    the query is rebuilt from its parsed pairs, each encoded.
    """
    # scope["path"] is the decoded path on every Starlette (1.x gives url.path still
    # percent-encoded).
    path: str = request.scope["path"]
    kept: list[tuple[str, str]] = []
    if request.method in ("GET", "HEAD"):
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    else:
        path = path.rsplit("/", 1)[0]
    return "/" + quote(path.lstrip("/"), safe="/") + "?" + urlencode([*kept, ("lang", language)])


def loaded(row: object, name: str) -> Any:
    """`row.name` when it was read with the row (a relationship loaded with it), else None:
    a page shows what its handler read and never reads the database while it renders."""
    if row is None or name in sqlalchemy.inspect(row).unloaded:
        return None
    return getattr(row, name)


def page_link(request: Request, name: str, **params: Any) -> str:
    """A link within the site, as a path, so forms post to the host their CSRF cookie was
    set on. Absolute URLs for mails, feeds and the API come from route names and BASE_URL
    (foundation.site_paths). Raises starlette's NoMatchFound for a name no route has."""
    router: Router = request.scope.get("router") or request.app.router
    # Which of the app's routes builds each route name (with those parameter names), kept in
    # the app's state. Starlette's url_path_for asks every route in turn, each refusing with
    # an exception: some forty per link, nearly half of an event page's time.
    known: dict[tuple[str, frozenset[str]], BaseRoute] | None = getattr(
        request.app.state, "route_of", None
    )
    if known is None:
        known = request.app.state.route_of = {}
    key = (name, frozenset(params))
    route = known.get(key)
    if route is None:
        # The first route that answers, as Router.url_path_for would find it.
        for candidate in router.routes:
            try:
                candidate.url_path_for(name, **params)
            except NoMatchFound:
                continue
            route = known[key] = candidate
            break
        else:
            raise NoMatchFound(name, params)
    # What URLPath.make_absolute_url(request.base_url).path gives, without building a URL.
    return request.base_url.path.rstrip("/") + route.url_path_for(name, **params)


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    settings = services(request).settings
    language = language_of(request)
    tz = settings.timezone

    def span(starts: datetime, ends: datetime) -> str:
        return format_span(starts, ends, tz, language)

    def when(moment: datetime) -> str:
        return format_datetime(moment, tz, language)

    def day(moment: datetime) -> str:
        return format_date_long(moment, tz, language)

    def clock(moment: datetime) -> str:
        return format_clock(moment, tz, language)

    template_obj = environment(language).get_template(template)
    html = template_obj.render(
        request=request,
        settings=settings,
        language=language,
        csrf_token=csrf.token_for(request, settings.secret_key),
        span=span,
        when=when,
        url_for=lambda name, **params: page_link(request, name, **params),
        # The header's link to this page in the other language (`switch_to("en")`).
        switch_to=lambda other: language_switch(request, other),
        day=day,
        clock=clock,
        # The two readings of a typed wall time the clocks repeat ([] for any other).
        loaded=loaded,
        repeated_choice=lambda typed: repeated_choice(str(typed), tz),
        # A domain error's message in the visitor's words: `said(error)`.
        said=lambda error: said(request, error),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    csrf.set_cookie(request, response, secure=settings.base_url.startswith("https"))
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="lax", max_age=365 * 86400)
    return response


def said(request: Request, error: DomainError) -> str:
    """A domain error's message in the visitor's language, instants written their way."""
    language = language_of(request)
    tz = services(request).settings.timezone
    return error.translated(
        translations(language).gettext, lambda moment: format_datetime(moment, tz, language)
    )


def closed_reason(request: Request, closed: DomainError | None) -> str | None:
    """Why booking is closed (None: it is open), in the visitor's language."""
    return None if closed is None else said(request, closed)
