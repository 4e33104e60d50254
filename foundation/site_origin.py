"""Every absolute URL the site builds comes from BASE_URL, never from the request.

Starlette builds `request.url_for(...)` (page links, redirects, the API's `url` and
`manage_url`) from the Host header and the scope's scheme, both of which the client or a
forwarded header chooses. Rewriting the scope from BASE_URL before routing closes that for
every link at once. (HSTS for an https BASE_URL is in foundation.response_headers.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send


class SiteOrigin:
    """ASGI middleware: scheme, Host and server of every request are those of `base_url`."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host.encode("idna").decode()
        port = f":{parts.port}" if parts.port is not None else ""
        self.host_header = f"{host}{port}".encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scheme = self.scheme if scope["type"] == "http" else self.scheme.replace("http", "ws")
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        scope = {
            **scope,
            "scheme": scheme,
            "server": (self.host, self.port),
            "headers": [(b"host", self.host_header), *headers],
        }
        await self.app(scope, receive, send)
