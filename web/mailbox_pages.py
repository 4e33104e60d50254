"""The local mailbox in the browser: what attendees would have received, for `make run`.

Served only when MAILBOX_PAGES=on (which `make run` sets), since these pages show every
attendee's mail and manage links. Never inferred from the client's address: behind a proxy
that trusts forwarded headers, anyone can claim to be 127.0.0.1.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from foundation.errors import N_
from foundation.rendering import render
from foundation.services import services
from mail.mailbox import LocalMailbox


def _mailbox(request: Request) -> LocalMailbox:
    settings = services(request).settings
    if not settings.mailbox_pages:
        raise HTTPException(404, N_("Sidan finns inte."))
    return LocalMailbox(settings.mailbox_dir)


async def mailbox_index(request: Request) -> Response:
    mailbox = _mailbox(request)
    entries = await asyncio.to_thread(mailbox.list)
    return render(request, "mailbox/index.html", {"entries": entries})


async def mailbox_message(request: Request) -> Response:
    mailbox = _mailbox(request)
    message_id = request.path_params["message_id"]
    message = await asyncio.to_thread(mailbox.get, message_id)
    if message is None:
        raise HTTPException(404, N_("Meddelandet finns inte."))
    text_part = message.get_body(("plain",))
    text = text_part.get_content() if text_part is not None else ""
    has_invite = await asyncio.to_thread(mailbox.invite, message_id) is not None
    return render(
        request,
        "mailbox/message.html",
        {
            "message_id": message_id,
            "message": message,
            "text": text,
            "has_html": message.get_body(("html",)) is not None,
            "has_invite": has_invite,
        },
    )


# What a mail client does with a mail: no script, nothing fetched, its own inline styles;
# links open in a new window. Framed only by the mailbox's own message page, and sandboxed
# there too (templates/mailbox/message.html), so nothing in it runs with this site's origin.
MAIL_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)
_NEW_WINDOW = '<base target="_blank">'


async def mailbox_html(request: Request) -> Response:
    """The mail's HTML part as sent, with one <base> so its links leave the frame (as a
    webmail client opens them in a new window), under MAIL_POLICY, the site's
    policy's one exception (foundation/response_headers.py)."""
    mailbox = _mailbox(request)
    message = await asyncio.to_thread(mailbox.get, request.path_params["message_id"])
    html_part = message.get_body(("html",)) if message is not None else None
    if html_part is None:
        raise HTTPException(404, N_("Meddelandet har ingen HTML-del."))
    html = html_part.get_content()
    head = html.find("<head>")
    html = html[: head + 6] + _NEW_WINDOW + html[head + 6 :] if head >= 0 else _NEW_WINDOW + html
    return HTMLResponse(
        html,
        headers={"content-security-policy": MAIL_POLICY, "x-frame-options": "SAMEORIGIN"},
    )


async def mailbox_invite(request: Request) -> Response:
    mailbox = _mailbox(request)
    invite = await asyncio.to_thread(mailbox.invite, request.path_params["message_id"])
    if invite is None:
        raise HTTPException(404, N_("Meddelandet har ingen kalenderinbjudan."))
    return Response(
        invite,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="invite.ics"'},
    )


routes = [
    Route("/mailbox", mailbox_index, name="mailbox"),
    Route("/mailbox/{message_id}", mailbox_message, name="mailbox_message"),
    Route("/mailbox/{message_id}/html", mailbox_html, name="mailbox_html"),
    Route("/mailbox/{message_id}/invite.ics", mailbox_invite, name="mailbox_invite"),
]
