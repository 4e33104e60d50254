"""Changing or cancelling a published event, said before it happens (issue 9 item 3).

Each is a form, then a preview of who will be told what (POST, nothing written), then a
confirmation that carries the previewed values and the preview's version back; a change
made to the event or its list in between shows the new preview instead of applying the old.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.errors import AlreadyCancelled, InvalidEvent
from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.errors import N_
from foundation.i18n import translations
from foundation.rendering import language_of, page_link, render, said
from foundation.services import services
from foundation.timestamps import utcnow
from foundation.typed_times import chosen_offset
from organisers import change_wording, changes
from organisers.access import current, requires
from organisers.changes import ChangeForm
from organisers.errors import ChangedSincePreview
from registrations.errors import NothingToChange
from registrations.organising import ChangePreview, preview_cancel

FIELDS = (
    "title",
    "day",
    "starts",
    "starts_offset",  # the reading chosen of a time the clocks repeat (foundation.typed_times)
    "ends",
    "ends_offset",
    "venue",
    "join_url",
    "capacity",
    "message",
)
# The rules say less; cut before.
LONGEST = {"message": 6_000, "title": 400, "venue": 400, "join_url": 600}
# The domain names times starts_at and ends_at; the form asks for a day and two clock times.
FORM_FIELD = {"starts_at": "starts", "ends_at": "ends"}

MSG_DAY = N_("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-12-03.")
MSG_TIME = N_("Skriv tiden som TT:MM, till exempel 12:00.")
MSG_CAPACITY_NUMBER = N_("Skriv antalet platser med siffror.")
_CLOCK = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})", re.ASCII)
_DAY = re.compile(r"(20[0-9]{2}|2100)-([0-9]{2})-([0-9]{2})", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,6}", re.ASCII)


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(
        request,
        f"organiser/changes/{template}",
        {"organiser": current(request), **context},
        status_code=status,
    )


def _done(request: Request, event_id: int, kind: str, done: ChangePreview) -> Response:
    """Back to the event's own page, which says what was done ("changed" or "cancelled")
    and who is told, in the organiser's words (change_wording.outcome)."""
    told = " ".join(change_wording.outcome(done, language=language_of(request)))
    path = page_link(request, "organiser_event", event_id=event_id)
    return flash.redirect(request, path, f"{kind}:{told}")


def _values(form: FormData) -> dict[str, str]:
    return {name: form_text.field(form, name, LONGEST.get(name, 100)) for name in FIELDS}


def _shown(preview: ChangePreview, tz: str) -> dict[str, str]:
    """The form's values for the event as it is."""
    event = preview.event
    zone = ZoneInfo(tz)
    starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    return {
        "title": event.title,
        "day": starts.date().isoformat(),
        "starts": starts.strftime("%H:%M"),
        "starts_offset": chosen_offset(event.starts_at, tz),
        "ends": ends.strftime("%H:%M"),
        "ends_offset": chosen_offset(event.ends_at, tz),
        "venue": event.venue or "",
        "join_url": event.join_url or "",
        "capacity": str(event.capacity),
        "message": "",
    }


def _read(values: dict[str, str]) -> ChangeForm:
    """The typed values as a ChangeForm; InvalidEvent naming each field that is not one."""
    errors: dict[str, str] = {}
    day = _day(values["day"].strip())
    if day is None:
        errors["day"] = MSG_DAY
    starts, ends = _clock(values["starts"].strip()), _clock(values["ends"].strip())
    if starts is None:
        errors["starts"] = MSG_TIME
    if ends is None:
        errors["ends"] = MSG_TIME
    number = values["capacity"].strip()
    if not _NUMBER.fullmatch(number):
        errors["capacity"] = MSG_CAPACITY_NUMBER
    if errors or day is None or starts is None or ends is None:
        raise InvalidEvent(errors)
    return ChangeForm(
        title=values["title"],
        day=day,
        starts=starts,
        ends=ends,
        venue=values["venue"],
        join_url=values["join_url"],
        capacity=int(number),
        note=values["message"],
        starts_offset=values["starts_offset"],
        ends_offset=values["ends_offset"],
    )


def _day(text: str) -> date | None:
    found = _DAY.fullmatch(text)
    if not found:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def _clock(text: str) -> time | None:
    found = _CLOCK.fullmatch(text)
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return time(int(found[1]), int(found[2]))


def _field_errors(exc: InvalidEvent) -> tuple[dict[str, str], str | None]:
    """The domain's field errors under the form's names; one that no field shows (the
    event's state) as a message of its own."""
    fields = {FORM_FIELD.get(name, name): text for name, text in exc.fields.items()}
    general = fields.pop("status", None)
    return {k: v for k, v in fields.items() if k in FIELDS}, general


# --- changing -------------------------------------------------------------------------------


@requires()
async def change_page(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        preview = await changes.preview_form(
            session, request.path_params["event_id"], None, tz=app.settings.timezone
        )
    return _change_form(request, preview, _shown(preview, app.settings.timezone))


def _change_form(
    request: Request,
    preview: ChangePreview,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    refused: str | None = None,
) -> Response:
    return _page(
        request,
        "change.html",
        {"preview": preview, "values": values, "errors": errors or {}, "refused": refused},
        422 if errors or refused else 200,
    )


@requires()
async def change(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    event_id: int = request.path_params["event_id"]
    values = _values(form)
    tz = app.settings.timezone
    try:
        asked = _read(values)
        if "edit" in form:  # back from the preview to the form, values kept
            return await _change_refused(request, event_id, values)
        async with app.transaction() as session:
            if form.get("confirm") == "yes":
                done = await changes.change_from_form(
                    session,
                    current(request),
                    event_id,
                    asked,
                    tz=tz,
                    seen=str(form.get("seen", "")),
                    now=utcnow(),
                )
                return _done(request, event_id, "changed", done)
            preview = await changes.preview_form(session, event_id, asked, tz=tz)
    except ChangedSincePreview as exc:
        return _preview_page(request, exc.preview, values, stale=said(request, exc))
    except InvalidEvent as exc:
        return await _change_refused(request, event_id, values, exc)
    except NothingToChange as exc:
        return await _change_refused(request, event_id, values, refused=said(request, exc))
    return _preview_page(request, preview, values)


async def _change_refused(
    request: Request,
    event_id: int,
    values: dict[str, str],
    exc: InvalidEvent | None = None,
    *,
    refused: str | None = None,
) -> Response:
    """The form again with what was typed, each fault next to its field, and `refused`
    (or a fault no field shows) above it."""
    app = services(request)
    async with app.transaction() as session:
        shown = await changes.preview_form(session, event_id, None, tz=app.settings.timezone)
    fields, general = _field_errors(exc) if exc is not None else ({}, None)
    if general:
        refused = translations(language_of(request)).gettext(general)
    return _change_form(request, shown, values, fields, refused)


def _preview_page(
    request: Request,
    preview: ChangePreview,
    values: dict[str, str],
    *,
    stale: str | None = None,
) -> Response:
    language, tz = language_of(request), services(request).settings.timezone
    worded = {
        "facts": change_wording.changed_facts(preview, language=language, tz=tz),
        "told": change_wording.outcome(preview, language=language),
        "note_reach": change_wording.note_reach(preview, language=language),
    }
    return _page(
        request,
        "preview.html",
        {"preview": preview, "values": values, "stale": stale, **worded},
        409 if stale else 200,
    )


# --- cancelling -----------------------------------------------------------------------------


@requires()
async def cancel_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        preview = await preview_cancel(session, request.path_params["event_id"])
    return _page(
        request, "cancel.html", {"preview": preview, "values": {"message": ""}, "errors": {}}
    )


@requires()
async def cancel(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    event_id: int = request.path_params["event_id"]
    values = {"message": form_text.field(form, "message", LONGEST["message"])}
    try:
        async with app.transaction() as session:
            if "edit" in form:
                preview = await preview_cancel(session, event_id)
                return _page(
                    request, "cancel.html", {"preview": preview, "values": values, "errors": {}}
                )
            if form.get("confirm") == "yes":
                done = await changes.cancel_event_as_previewed(
                    session,
                    current(request),
                    event_id,
                    note=values["message"],
                    seen=str(form.get("seen", "")),
                    now=utcnow(),
                )
                return _done(request, event_id, "cancelled", done)
            preview = await preview_cancel(session, event_id, note=values["message"])
    except ChangedSincePreview as exc:
        return _preview_page(request, exc.preview, values, stale=said(request, exc))
    except AlreadyCancelled:
        # Confirmed twice (another tab, a colleague): the page says it is cancelled already.
        async with app.transaction() as session:
            preview = await preview_cancel(session, event_id)
        context = {"preview": preview, "values": values, "errors": {}}
        return _page(request, "cancel.html", context, 409)
    except InvalidEvent as exc:
        async with app.transaction() as session:
            preview = await preview_cancel(session, event_id)
        return _page(
            request,
            "cancel.html",
            {"preview": preview, "values": values, "errors": dict(exc.fields)},
            422,
        )
    return _preview_page(request, preview, values)


routes = [
    Route("/organiser/events/{event_id:id}/change", change_page, name="organiser_event_change"),
    Route(
        "/organiser/events/{event_id:id}/change",
        change,
        methods=["POST"],
        name="organiser_event_change_post",
    ),
    Route("/organiser/events/{event_id:id}/cancel", cancel_page, name="organiser_event_cancel"),
    Route(
        "/organiser/events/{event_id:id}/cancel",
        cancel,
        methods=["POST"],
        name="organiser_event_cancel_post",
    ),
]
