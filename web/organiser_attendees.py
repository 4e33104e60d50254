"""An event's attendees in the organiser workspace: the list and its search, adding someone
by hand, cancelling (after a confirmation step), promoting from the waitlist, check-in on the
day, and the exports (CSV for Swedish Excel, .xlsx)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events.opening import BookingClosed
from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id} for the routes)
from foundation.rendering import page_link, render, said
from foundation.services import services
from foundation.timestamps import utcnow
from organisers import attendees_workspace as workspace
from organisers.access import current, requires
from registrations import errors

FIELDS = ("name", "email", "organisation", "municipality")
MAX_REASON = 6_000  # characters read of a cancellation's reason; its rule allows 5,000
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A note left for the page a form redirects to: "ok:" and what was done (the page says it
# in the organiser's words), or "refused:" and the refusal already in them. It names nobody.
OK, REFUSED = "ok:", "refused:"
SEAT_ADDED = "seat_added:"  # then the new capacity


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    response = render(
        request,
        f"organiser/attendees/{template}",
        {"organiser": current(request), **context},
        status_code=status,
    )
    return response


def _back(request: Request, route: str, note: str) -> Response:
    """303 to `route` of this event, carrying `note` in a signed cookie for that page."""
    path = page_link(request, route, event_id=request.path_params["event_id"])
    return flash.redirect(request, path, note)


def _note(request: Request) -> dict[str, str] | None:
    """The note a form left for this page: {"kind": "ok", "text": what was done} or
    {"kind": "refused", "text": why not}."""
    note = flash.read(request, services(request).settings.secret_key)
    for prefix in (OK, REFUSED):
        if note and note.startswith(prefix):
            return {"kind": prefix[:-1], "text": note[len(prefix) :]}
    return None


# --- the list ---------------------------------------------------------------------------


@requires()
async def attendees_page(request: Request) -> Response:
    event_id: int = request.path_params["event_id"]
    query = request.query_params.get("q", "")[:1000]
    async with services(request).transaction() as session:
        roster = await workspace.attendee_list(session, current(request), event_id, query, utcnow())
    response = _page(request, "list.html", {"roster": roster, "note": _note(request)})
    return flash.forget(request, response)


async def _export(request: Request, file_format: workspace.ExportFormat) -> Response:
    app = services(request)
    event_id: int = request.path_params["event_id"]
    async with app.transaction() as session:
        made = await workspace.export(
            session,
            current(request),
            event_id,
            file_format,
            utcnow(),
            tz_name=app.settings.timezone,
        )
    response = Response(made, media_type=MEDIA_TYPES[file_format])
    # Only the event's id in the header: no text anyone typed reaches it.
    response.headers["content-disposition"] = (
        f'attachment; filename="deltagare-{event_id}.{file_format}"'
    )
    return response


@requires()
async def attendees_csv(request: Request) -> Response:
    return await _export(request, "csv")


@requires()
async def attendees_xlsx(request: Request) -> Response:
    return await _export(request, "xlsx")


# --- adding someone by hand -------------------------------------------------------------


@requires()
async def new_attendee_page(request: Request) -> Response:
    return await _new_attendee(request, values={}, field_errors={})


async def _new_attendee(
    request: Request,
    *,
    values: dict[str, str],
    field_errors: dict[str, str],
    refused: str | None = None,
    status: int = 200,
) -> Response:
    async with services(request).transaction() as session:
        event = await workspace.event_of(session, request.path_params["event_id"])
    return _page(
        request,
        "new.html",
        {"event": event, "values": values, "errors": field_errors, "refused": refused},
        status,
    )


@requires()
async def add_attendee(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = form_text.fields(form, FIELDS, 1000)
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    values["language"] = str(form.get("language", "sv"))[:10]
    try:
        async with app.transaction() as session:
            result = await workspace.add_attendee(
                session,
                current(request),
                request.path_params["event_id"],
                name=values["name"],
                email=values["email"],
                organisation=values["organisation"],
                municipality=values["municipality"],
                consent=values["consent"] == "yes",
                language=values["language"],
                smtputf8=app.settings.smtp_utf8,
                secret_key=app.settings.secret_key,
                now=utcnow(),
            )
    except errors.InvalidAttendee as exc:
        return await _new_attendee(request, values=values, field_errors=exc.fields, status=422)
    except BookingClosed as exc:
        return await _new_attendee(
            request, values=values, field_errors={}, refused=said(request, exc), status=409
        )
    done = "added" if result.confirmed else "waitlisted"
    return _back(request, "organiser_attendees", OK + done)


# --- cancelling and promoting -----------------------------------------------------------


@requires()
async def cancel_attendee(request: Request) -> Response:
    """Without `confirmed=yes` the confirmation step; with it, the cancellation."""
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    event_id: int = request.path_params["event_id"]
    registration_id: int = request.path_params["registration_id"]
    reason = form_text.field(form, "reason", MAX_REASON)
    if form.get("confirmed") == "yes":
        try:
            async with app.transaction() as session:
                await workspace.cancel_attendee(
                    session, current(request), event_id, registration_id, utcnow(), reason=reason
                )
        except errors.InvalidAttendee as exc:
            return await _cancel_page(request, reason, exc.fields, status=422)
        return _back(request, "organiser_attendees", OK + "cancelled")
    return await _cancel_page(request, reason, {})


async def _cancel_page(
    request: Request, reason: str, field_errors: dict[str, str], status: int = 200
) -> Response:
    """The confirmation step: who, what they will be told, and a box for the reason."""
    event_id: int = request.path_params["event_id"]
    async with services(request).transaction() as session:
        person = await workspace.one_attendee(
            session, event_id, request.path_params["registration_id"]
        )
    context = {"person": person, "event_id": event_id, "reason": reason, "errors": field_errors}
    return _page(request, "cancel.html", context, status)


@requires()
async def promote_attendee(request: Request) -> Response:
    """'Ge plats': without `confirmed=yes` the confirmation step, saying whether a free seat
    is used or one is added; with it (and the seats as shown, `seen`), the seat."""
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    event_id: int = request.path_params["event_id"]
    registration_id: int = request.path_params["registration_id"]
    try:
        if form.get("confirmed") != "yes":
            async with app.transaction() as session:
                offer = await workspace.seat_offer(session, event_id, registration_id, utcnow())
            return _page(request, "give_seat.html", {"offer": offer, "event_id": event_id})
        async with app.transaction() as session:
            given = await workspace.give_seat(
                session,
                current(request),
                event_id,
                registration_id,
                form_text.field(form, "seen", 40),
                utcnow(),
            )
    except (errors.SeatsChanged, errors.NotWaitlisted, BookingClosed) as exc:
        return _back(request, "organiser_attendees", REFUSED + said(request, exc))
    if given.capacity != given.capacity_before:
        return _back(request, "organiser_attendees", f"{OK}{SEAT_ADDED}{given.capacity}")
    return _back(request, "organiser_attendees", OK + "promoted")


# --- check-in ---------------------------------------------------------------------------


@requires()
async def check_in_page(request: Request) -> Response:
    async with services(request).transaction() as session:
        found = await workspace.check_in_list(
            session,
            current(request),
            request.path_params["event_id"],
            tz=services(request).settings.timezone,
            now=utcnow(),
        )
    response = _page(request, "check_in.html", {"check_in": found, "note": _note(request)})
    return flash.forget(request, response)


@requires()
async def mark_attendance(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    registration_id: int = request.path_params["registration_id"]
    fragment = f"#r-{registration_id}"
    try:
        async with app.transaction() as session:
            await workspace.mark_attendance(
                session,
                current(request),
                request.path_params["event_id"],
                registration_id,
                form_text.field(form, "mark", 20),
                utcnow(),
                tz=app.settings.timezone,
            )
    except (errors.NotConfirmed, errors.CheckInClosed) as exc:
        return _back(request, "organiser_check_in", REFUSED + said(request, exc))
    # Back to the same person's row, so the page does not jump on a phone.
    return RedirectResponse(
        page_link(request, "organiser_check_in", event_id=request.path_params["event_id"])
        + fragment,
        status_code=303,
    )


_EVENT = "/organiser/events/{event_id:id}"
_PERSON = _EVENT + "/attendees/{registration_id:id}"
routes = [
    Route(_EVENT + "/attendees", attendees_page, name="organiser_attendees"),
    Route(_EVENT + "/attendees.csv", attendees_csv, name="organiser_attendees_csv"),
    Route(_EVENT + "/attendees.xlsx", attendees_xlsx, name="organiser_attendees_xlsx"),
    Route(_EVENT + "/attendees/new", new_attendee_page, name="organiser_attendee_new"),
    Route(_EVENT + "/attendees/new", add_attendee, methods=["POST"], name="organiser_attendee_add"),
    Route(_PERSON + "/cancel", cancel_attendee, methods=["POST"], name="organiser_attendee_cancel"),
    Route(
        _PERSON + "/promote", promote_attendee, methods=["POST"], name="organiser_attendee_promote"
    ),
    Route(_EVENT + "/check-in", check_in_page, name="organiser_check_in"),
    Route(
        _EVENT + "/check-in/{registration_id:id}",
        mark_attendance,
        methods=["POST"],
        name="organiser_check_in_mark",
    ),
]
