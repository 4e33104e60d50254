"""The paths of the pages and files that are linked from outside a page, by route name.

Mails, invites, feeds and the API link to the site with absolute URLs, and they are built
where no request is at hand (in a worker, in the domain). So the route table's paths for those
names are written once, here: the route adapters declare their routes with `ROUTES[name]`,
and `url(base_url, name, **params)` builds the absolute URL from BASE_URL, never from a
request's Host header (which a client chooses). tests/web/test_site_paths.py holds the
app's route table to these paths.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from foundation import ids, slugs  # noqa: F401  (register {name:id} and {name:slug})

# name → path as Starlette declares it: `{name}` or `{name:convertor}` (`id`: foundation.ids,
# `slug`: foundation.slugs; both registered when those modules are imported, as here).
ROUTES: dict[str, str] = {
    "home": "/",
    "event": "/events/{event_id:id}",
    "event_ics": "/events/{event_id:id}/event.ics",
    "series": "/series/{slug:slug}",
    "feed_all": "/calendar.ics",
    "feed_series": "/series/{slug:slug}/calendar.ics",
    "manage": "/manage/{token}",
    "manage_ics": "/manage/{token}/event.ics",
    "feed_personal": "/feeds/{token}.ics",
    "feed_page": "/feeds/{token}",
    "guide": "/guide",
    "guide_example": "/guide/{slug:slug}",
    # 'Dela med dig' (web/guide_share.py), linked from the mail that declines a proposal.
    "guide_share": "/guide/share",
    # An attendee's own data (GDPR art. 15, 17, 20): the page asking for a link, and the
    # mailed link that shows, exports and erases it (web/my_data_pages.py).
    "my_data": "/my-data",
    "my_data_view": "/my-data/{token}",
    # Who runs the service, its privacy notice and its accessibility statement: linked from
    # every page's footer and every mail's (web/service_pages.py).
    "about": "/about",
    "privacy": "/privacy",
    "accessibility": "/accessibility",
    # Organisers' account mails (organisers/password_links.py).
    "organiser_login": "/organiser/login",
    "organiser_forgot": "/organiser/forgot",
    "organiser_set_password": "/organiser/password/{token}",
}

_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


def path(name: str, **params: str | int) -> str:
    """The path of route `name` with `params` filled in, each percent-encoded whole.

    Raises KeyError for an unknown name or a missing parameter, TypeError for an extra one.
    """
    template = ROUTES[name]
    wanted = set(_PARAM.findall(template))
    if extra := set(params) - wanted:
        raise TypeError(f"route {name!r} takes no {sorted(extra)}")
    return _PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=""), template)


def url(base_url: str, name: str, **params: str | int) -> str:
    """The absolute URL of route `name` under BASE_URL (scheme and host, no trailing /)."""
    return base_url.rstrip("/") + path(name, **params)


def url_in(language: str, base_url: str, name: str, **params: str | int) -> str:
    """`url(...)` for a link made for one person (a mail, their invite): it opens the page
    in `language`, theirs, on any device. `?lang=` outranks the device's language cookie
    and sets it (foundation.rendering), so the visit stays in that language, the form to
    book again on a cancelled booking's page included."""
    return f"{url(base_url, name, **params)}?{urlencode({'lang': language})}"
