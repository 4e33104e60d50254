"""The organiser workspace's messages: a reminder now, a message with its preview, each
send's progress (a page and its JSON), and the outbox with retries of failed mail."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from foundation import csrf, form_text, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.errors import DomainError
from foundation.rendering import page_link, render, said
from foundation.services import services
from foundation.timestamps import utcnow
from mail.models import Audience, MessageKind
from notices.preview import preview_send
from organisers import messages, send_keys
from organisers.access import current, requires

AUDIENCES = {a.value: a for a in Audience}


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(
        request,
        f"organiser/messages/{template}",
        {"organiser": current(request), **context},
        status_code=status,
    )


@requires()
async def messages_page(request: Request) -> Response:
    return await _messages(request, {"audience": "confirmed", "subject": "", "body": ""})


async def _messages(
    request: Request, values: dict[str, str], refused: str | None = None, status: int = 200
) -> Response:
    async with services(request).transaction() as session:
        page = await messages.messages_page(session, request.path_params["event_id"])
    return _page(
        request,
        "messages.html",
        {"page": page, "values": values, "refused": refused},
        status,
    )


async def _message_form(request: Request) -> tuple[dict[str, str], Audience]:
    form = await csrf.checked_form(request, services(request).settings.secret_key)
    values = {
        "audience": str(form.get("audience", "")),
        "subject": form_text.field(form, "subject", 1000),
        "body": form_text.field(form, "body", 40_000),
        "send_key": form_text.field(form, "send_key", send_keys.MAX_KEY),
    }
    audience = AUDIENCES.get(values["audience"], Audience.CONFIRMED)
    values["audience"] = audience.value
    return values, audience


@requires()
async def message_preview(request: Request) -> Response:
    values, audience = await _message_form(request)
    return await _preview(request, values, audience)


async def _preview(
    request: Request, values: dict[str, str], audience: Audience, note: str | None = None
) -> Response:
    """The message as its first recipient gets it, with a fresh one-time key in its form."""
    app = services(request)
    try:
        async with app.transaction() as session:
            preview = await preview_send(
                session,
                app.settings,
                request.path_params["event_id"],
                kind=MessageKind.ORGANISER_MESSAGE,
                audience=audience,
                subject=values["subject"],
                body=values["body"],
                now=utcnow(),
            )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _messages(request, values, refused=said(request, exc), status=422)
    values = {**values, "send_key": send_keys.new_key()}
    context = {"preview": preview, "values": values, "note": note}
    return _page(request, "preview.html", context, 200 if note is None else 409)


@requires()
async def message_send(request: Request) -> Response:
    app = services(request)
    values, audience = await _message_form(request)
    event_id = request.path_params["event_id"]
    if not values["send_key"]:  # a page from before keys: show what it would send first
        return await _preview(request, values, audience, said(request, send_keys.SendKeyMissing()))
    await send_keys.within_limits(app.send_limiter, f"account:{current(request).id}", event_id)
    try:
        async with app.transaction() as session:
            sent = await send_keys.message_once(
                session,
                current(request),
                event_id,
                subject=values["subject"],
                body=values["body"],
                audience=audience,
                key=values["send_key"],
                now=utcnow(),
            )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _messages(request, values, refused=said(request, exc), status=422)
    # A repeated post of the form lands where the first one did, and sends nothing more.
    return RedirectResponse(page_link(request, "organiser_send", send_id=sent.send.id), 303)


@requires()
async def reminder_page(request: Request) -> Response:
    return await _reminder(request)


async def _reminder(request: Request, status: int = 200) -> Response:
    """The reminder as its first recipient gets it, a fresh one-time key, and when the last
    reminder went if that was within send_keys.REMIND_AGAIN_WITHIN (then sending confirms
    another)."""
    app = services(request)
    now = utcnow()
    async with app.transaction() as session:
        preview = await preview_send(
            session,
            app.settings,
            request.path_params["event_id"],
            kind=MessageKind.REMINDER,
            audience=Audience.CONFIRMED,
            now=now,
        )
        last = await send_keys.last_reminder(session, preview.event.id, now)
    context = {"preview": preview, "send_key": send_keys.new_key(), "last": last}
    return _page(request, "reminder.html", context, status)


@requires()
async def reminder_send(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    key = form_text.field(form, "send_key", send_keys.MAX_KEY)
    again = form_text.field(form, "again", 12)
    event_id = request.path_params["event_id"]
    if not key:  # a page from before keys: show it again
        return await _reminder(request, 409)
    await send_keys.within_limits(app.send_limiter, f"account:{current(request).id}", event_id)
    try:
        async with app.transaction() as session:
            sent = await send_keys.remind_once(
                session,
                current(request),
                event_id,
                key=key,
                again=int(again) if again.isdigit() else None,
                now=utcnow(),
            )
    except send_keys.RemindedRecently:
        return await _reminder(request, 409)  # it says when the last one went, and asks
    return RedirectResponse(page_link(request, "organiser_send", send_id=sent.send.id), 303)


@requires()
async def send_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        status = await messages.send_status(session, request.path_params["send_id"])
    return _page(request, "send.html", {"status": status})


@requires()
async def send_json(request: Request) -> Response:
    async with services(request).transaction() as session:
        status = await messages.send_status(session, request.path_params["send_id"])
    return JSONResponse(
        {"id": status.send.id, **status.progress, "total": status.total, "done": status.done},
        headers={"cache-control": "no-store"},
    )


@requires()
async def outbox_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        box = await messages.event_outbox(
            session, current(request), request.path_params["event_id"], utcnow()
        )
    return _page(request, "outbox.html", {"event": box.event, "messages": box.messages})


@requires()
async def outbox_all_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        troubled = await messages.troubled(session, current(request), utcnow())
    return _page(request, "outbox.html", {"event": None, "messages": troubled})


@requires()
async def retry_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        message = await messages.failed_message(
            session, current(request), request.path_params["outbox_id"]
        )
    return _page(request, "retry.html", {"message": message})


@requires()
async def retry(request: Request) -> Response:
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    async with app.transaction() as session:
        message = await messages.retry(
            session, current(request), request.path_params["outbox_id"], utcnow()
        )
    if message.event_id is None:
        return RedirectResponse(page_link(request, "organiser_outbox_all"), 303)
    return RedirectResponse(page_link(request, "organiser_outbox", event_id=message.event_id), 303)


routes = [
    Route("/organiser/events/{event_id:id}/messages", messages_page, name="organiser_messages"),
    Route(
        "/organiser/events/{event_id:id}/messages",
        message_send,
        methods=["POST"],
        name="organiser_message_send",
    ),
    Route(
        "/organiser/events/{event_id:id}/messages/preview",
        message_preview,
        methods=["POST"],
        name="organiser_message_preview",
    ),
    Route("/organiser/events/{event_id:id}/reminder", reminder_page, name="organiser_reminder"),
    Route(
        "/organiser/events/{event_id:id}/reminder",
        reminder_send,
        methods=["POST"],
        name="organiser_reminder_send",
    ),
    Route("/organiser/events/{event_id:id}/outbox", outbox_page, name="organiser_outbox"),
    Route("/organiser/sends/{send_id:id}", send_page, name="organiser_send"),
    Route("/organiser/sends/{send_id:id}.json", send_json, name="organiser_send_json"),
    Route("/organiser/outbox", outbox_all_page, name="organiser_outbox_all"),
    Route("/organiser/outbox/{outbox_id:id}/retry", retry_page, name="organiser_retry_confirm"),
    Route(
        "/organiser/outbox/{outbox_id:id}/retry",
        retry,
        methods=["POST"],
        name="organiser_retry",
    ),
]
