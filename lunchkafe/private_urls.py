"""Answers at URLs that hold a secret are never stored and never named to another site.

A manage link, a personal feed and the API's cancel URL carry the attendee's token in the
path, and their pages show a join link and personal data. `Cache-Control: no-store`
(RFC 9111 5.2.2.5) keeps them out of every cache, a shared computer's browser included;
`Referrer-Policy: no-referrer` keeps the URL out of the Referer header, also on links to
this site (the join link on the manage page goes to a video service). Error answers at
those URLs get the same headers: a 404 still echoes the token in its URL.

The calendar files under these prefixes (`/feeds/{token}.ics`, `/manage/{token}/event.ics`)
are `no-store` too, not `private, no-cache`: one rule for every token URL (their join links
are what must not linger on a shared computer), and revalidation buys little there, since a
personal feed is a few events. They keep their ETag and Last-Modified, so a calendar client
that remembers the ETag itself still gets its 304.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The one list of path prefixes whose URLs hold an attendee's token. The local mailbox
# (development only) holds none in its URLs but shows every attendee's manage link.
TOKEN_PREFIXES = ("/manage/", "/feeds/", "/api/manage/", "/mailbox")

PRIVATE_HEADERS = [
    # `private` adds nothing to no-store for a cache that knows no-store; older shared
    # caches that do not still keep out of it.
    (b"cache-control", b"private, no-store"),
    (b"referrer-policy", b"no-referrer"),
]
_REPLACED = {name for name, _ in PRIVATE_HEADERS}


def holds_token(path: str) -> bool:
    """Whether `path` (decoded, as in the ASGI scope) is one of the secret-bearing URLs."""
    return path.startswith(TOKEN_PREFIXES)


class PrivateUrls:
    """ASGI middleware: `no-store` and `no-referrer` on every answer at a token URL.

    It replaces whatever the route or the site-wide headers set, so it must wrap them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not holds_token(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                message["headers"] = kept + PRIVATE_HEADERS
            await send(message)

        await self.app(scope, receive, send_private)
