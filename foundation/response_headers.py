"""The one policy for the security headers of every answer: pages, API, files, errors.

* Site-wide: no MIME sniffing, no framing, a Content-Security-Policy that allows only this
  site's own styles and scripts, and `Referrer-Policy: same-origin`.
* HSTS when BASE_URL is https (RFC 6797): the site is then known to be reachable only over
  TLS, so browsers should never try plain http again.
* At URLs that hold an attendee's token (a manage link, a personal feed, the API's cancel URL)
  or an organiser's one-time password link, and on the development mailbox, which shows every
  manage link: `Cache-Control: private, no-store` (RFC 9111 §5.2.2.5) keeps the answer out of
  every cache, a shared computer's browser included, and `Referrer-Policy: no-referrer` keeps
  the URL out of the Referer header, also on the join link to a video service. Error answers
  there get the same: a 404 still echoes the token in its URL. Calendar files under these
  prefixes are `no-store` too, not `private, no-cache`: their join links are what must not
  linger, and revalidation buys little for a feed of a few events. They keep ETag and
  Last-Modified, so a calendar client that remembers the ETag itself still gets its 304.
* The organiser API (`/api/v1/organiser/`) answers with attendees' names and addresses, so
  it gets the same, errors included.

What the policy sets replaces whatever a route set under the same name, so a route's
`Cache-Control` holds everywhere except at a token URL.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Header = tuple[bytes, bytes]

SITE_HEADERS: list[Header] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
]
HSTS: Header = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

# The one list of path prefixes whose URLs hold a token (an attendee's, or an organiser's
# password link). The local mailbox (development only) holds none in its URLs but shows
# every attendee's manage link.
TOKEN_PREFIXES = (
    "/manage/",
    "/feeds/",
    "/api/v1/manage/",
    "/api/manage/",
    "/mailbox",
    "/organiser/password/",  # an organiser's one-time link to set a password
    "/my-data/",  # a person's mailed link to their own data
)
# Answers with personal data, kept out of caches like the token URLs.
# The workspace shows attendees' and accounts' data on nearly every page: all of it is kept
# out of caches here, whatever a handler remembers to say.
PERSONAL_PREFIXES = ("/api/v1/organiser/", "/organiser/")
PRIVATE_HEADERS: list[Header] = [
    # `private` adds nothing to no-store for a cache that knows no-store; older shared
    # caches that do not still keep out of it.
    (b"cache-control", b"private, no-store"),
    (b"referrer-policy", b"no-referrer"),
]


def holds_token(path: str) -> bool:
    """Whether `path` (decoded, as in the ASGI scope) is one of the secret-bearing URLs."""
    return path.startswith(TOKEN_PREFIXES)


def is_private(path: str) -> bool:
    """Whether answers at `path` are kept out of every cache: a token URL or personal data."""
    return holds_token(path) or path.startswith(PERSONAL_PREFIXES)


class HeaderPolicy:
    """Which security headers an answer at a path carries; `https` is BASE_URL's scheme."""

    def __init__(self, *, https: bool) -> None:
        site = [*SITE_HEADERS, HSTS] if https else list(SITE_HEADERS)
        private_names = {name for name, _ in PRIVATE_HEADERS}
        self._public = site
        self._private = [h for h in site if h[0] not in private_names] + PRIVATE_HEADERS

    def for_path(self, path: str) -> list[Header]:
        return self._private if is_private(path) else self._public

    def apply(self, path: str, headers: list[Header]) -> list[Header]:
        """`headers` of an answer at `path`, with the policy's replacing any of the same name,
        except, in the local mailbox (development only), an answer's own policy that sandboxes
        it (a mail's HTML, shown in a frame of the mailbox's page as a mail client shows it):
        that policy and its framing rule stand instead of the site's, since the site's
        `style-src 'self'` would strip the mail's inline styles and `DENY` its frame."""
        sandboxed = path.startswith("/mailbox/") and any(
            name.lower() == CSP and value.lstrip().startswith(b"sandbox") for name, value in headers
        )
        own = [h for h in self.for_path(path) if not (sandboxed and h[0] in _FRAMING)]
        names = {name for name, _ in own}
        return [h for h in headers if h[0].lower() not in names] + own


CSP = b"content-security-policy"
_FRAMING = (CSP, b"x-frame-options")


class SecurityHeaders:
    """ASGI middleware: every answer gets the policy's headers for its path."""

    def __init__(self, app: ASGIApp, policy: HeaderPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.policy.apply(path, list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)
