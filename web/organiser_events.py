"""The organiser's series and events: create, edit, publish, unpublish, duplicate, delete a
draft, plan a series of dates, link guide examples. Each handler reads its form, makes one
call to organisers.events_workspace inside a transaction, and renders or redirects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events.errors import EventStateRefused, InvalidEvent
from events.series_dates import MAX_DATES
from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id})
from foundation.rendering import language_of, page_link, render, said
from foundation.services import services
from foundation.timestamps import utcnow
from foundation.typed_times import offset_field
from guide.errors import ExampleNotFound, InvalidExample
from organisers import event_defaults
from organisers import events_workspace as desk
from organisers.access import current, requires

# The form's text fields; anything else a client sends is ignored.
EVENT_FIELDS = (
    "title",
    "kind",
    "summary",
    "description",
    "starts_at",
    "ends_at",
    "capacity",
    "join_url",
    "venue",
    "host",
    "reminder_offsets",
    "registration_opens_at",
    "registration_closes_at",
    # The reading chosen of a time the clocks repeat (foundation.typed_times).
    *(offset_field(name) for name in desk.TIME_FIELDS),
)
SERIES_FIELDS = (
    "slug",
    "title",
    "summary",
    "description",
    "host",
    "capacity",
    "join_url",
    "venue",
    "first_day",
    "starts",
    "ends",
    "every_weeks",
    "count",
    "reminder_offsets",
    "publish",
)


def _event_id(request: Request) -> int:
    return int(request.path_params["event_id"])


def _to_event(request: Request, event_id: int, note: str) -> Response:
    return flash.redirect(request, page_link(request, "organiser_event", event_id=event_id), note)


async def _event_page(
    request: Request, event_id: int, *, refused: str | None = None, status: int = 200, **more: Any
) -> Response:
    app = services(request)
    async with app.transaction() as session:
        seen = await desk.event_desk(session, event_id)
    note = flash.read(request, app.settings.secret_key) if refused is None else None
    # "changed:" and "cancelled:" carry who is told, already in the organiser's words.
    kind, _, told = (note or "").partition(":")
    context: dict[str, Any] = {
        "organiser": current(request),
        "desk": seen,
        "effect": event_defaults.in_effect(seen.event, app.settings.reminder_offsets),
        "refused": refused,
        "note": kind or None,
        "told": told,
        "errors": {},
        "values": {},
    }
    context.update(more)
    response = render(request, "organiser/events/event.html", context, status_code=status)
    return flash.forget(request, response)


@requires()
async def event_page(request: Request) -> Response:
    return await _event_page(request, _event_id(request))


def _form(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    event: Any = None,
    status: int = 200,
) -> Response:
    # What the co-host and reminder fields mean when left empty, said in their hints.
    effect = (
        None
        if event is None
        else event_defaults.in_effect(event, services(request).settings.reminder_offsets)
    )
    return render(
        request,
        "organiser/events/form.html",
        {
            "organiser": current(request),
            "values": values,
            "errors": errors,
            "event": event,
            "effect": effect,
            "site_reminders": services(request).settings.reminder_offsets,
        },
        status_code=status,
    )


@requires()
async def new_event_page(request: Request) -> Response:
    return _form(request, values={"capacity": "20", "kind": "cafe"}, errors={})


@requires()
async def create_event(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = form_text.fields(form, EVENT_FIELDS)
    try:
        async with app.transaction() as session:
            event = await desk.create_event(
                session,
                current(request),
                values,
                tz=app.settings.timezone,
                site_domain=app.settings.site_domain,
                now=utcnow(),
            )
    except InvalidEvent as exc:
        return _form(request, values=values, errors=exc.fields, status=422)
    return _to_event(request, event.id, "created")


@requires()
async def edit_event_page(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        seen = await desk.event_desk(session, _event_id(request))
    return _form(
        request,
        values=desk.event_values(seen.event, app.settings.timezone),
        errors={},
        event=seen.event,
    )


@requires()
async def save_event(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = form_text.fields(form, EVENT_FIELDS)
    event_id = _event_id(request)
    try:
        async with app.transaction() as session:
            await desk.save_event(
                session, current(request), event_id, values, tz=app.settings.timezone, now=utcnow()
            )
    except InvalidEvent as exc:
        async with app.transaction() as session:
            seen = await desk.event_desk(session, event_id)
        return _form(request, values=values, errors=exc.fields, event=seen.event, status=422)
    return _to_event(request, event_id, "saved")


async def _step(request: Request, note: str, step: Any, *args: Any) -> Response:
    """A button on the event page: the step, then back to the page, or the page saying why not."""
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    event_id = _event_id(request)
    try:
        async with app.transaction() as session:
            await step(session, current(request), event_id, *args, utcnow())
    except (EventStateRefused, InvalidEvent) as exc:
        return await _event_page(request, event_id, refused=said(request, exc), status=exc.status)
    return _to_event(request, event_id, note)


@requires()
async def publish(request: Request) -> Response:
    return await _step(request, "published", desk.publish)


@requires()
async def unpublish(request: Request) -> Response:
    return await _step(request, "unpublished", desk.unpublish)


@requires()
async def duplicate(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    event_id = _event_id(request)
    try:
        async with app.transaction() as session:
            copy = await desk.duplicate(
                session,
                current(request),
                event_id,
                str(form.get("weeks", "1")),
                tz=app.settings.timezone,
                site_domain=app.settings.site_domain,
                now=utcnow(),
            )
    except InvalidEvent as exc:
        return await _event_page(request, event_id, refused=said(request, exc), status=exc.status)
    return _to_event(request, copy.id, "duplicated")


@requires()
async def delete_page(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        seen = await desk.event_desk(session, _event_id(request))
    return render(
        request,
        "organiser/events/delete.html",
        {"organiser": current(request), "desk": seen},
    )


@requires()
async def delete(request: Request) -> Response:
    app = services(request)
    await csrf.checked_form(request, app.settings.secret_key)
    event_id = _event_id(request)
    try:
        async with app.transaction() as session:
            await desk.delete_draft(session, current(request), event_id, utcnow())
    except EventStateRefused as exc:
        return await _event_page(request, event_id, refused=said(request, exc), status=exc.status)
    response = RedirectResponse(page_link(request, "organiser_home"), status_code=303)
    return response


async def _examples_step(request: Request, step: Any, *names: str) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    event_id = _event_id(request)
    args = [form_text.field(form, name, 2_000) for name in names]
    try:
        async with app.transaction() as session:
            await step(session, current(request), event_id, *args, utcnow())
    except (InvalidExample, ExampleNotFound) as exc:
        return await _event_page(
            request,
            event_id,
            status=exc.status,
            errors=exc.fields or {"example": exc.msgid},
            values={name: value for name, value in zip(names, args, strict=True)},
        )
    return RedirectResponse(
        page_link(request, "organiser_event", event_id=event_id) + "#examples-title",
        status_code=303,
    )


@requires()
async def link_example(request: Request) -> Response:
    return await _examples_step(request, desk.link_example, "example", "note")


@requires()
async def move_example(request: Request) -> Response:
    return await _examples_step(request, desk.move_example, "example_id", "direction")


@requires()
async def unlink_example(request: Request) -> Response:
    return await _examples_step(request, desk.unlink_example, "example_id")


def _series_form(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    preview: desk.SeriesPreview | None = None,
    chosen: set[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "organiser/events/series_form.html",
        {
            "organiser": current(request),
            "values": values,
            "errors": errors,
            "preview": preview,
            "chosen": chosen,
        },
        status_code=status,
    )


@requires()
async def new_series_page(request: Request) -> Response:
    defaults = {
        "capacity": "20",
        "count": "4",
        "every_weeks": "1",
        "starts": "12:00",
        "ends": "13:00",
    }
    return _series_form(request, values=defaults, errors={})


@requires()
async def create_series(request: Request) -> Response:
    """Two steps on one form: "preview" shows the dates (holidays flagged, each with a box
    to keep it), "create" makes the series and the dates still ticked, then shows the
    series' page."""
    app = services(request)
    # One box per date (up to MAX_DATES) besides the series' own fields.
    form = await csrf.checked_form(
        request, app.settings.secret_key, max_fields=len(SERIES_FIELDS) + MAX_DATES + 10
    )
    values = form_text.fields(form, SERIES_FIELDS)
    tz = app.settings.timezone
    chosen = [str(day) for day in form.getlist("dates")]
    try:
        async with app.transaction() as session:
            if form.get("step") != "create":
                preview = await desk.preview_series(
                    session, values, tz=tz, language=language_of(request)
                )
                keep = {
                    p.day.isoformat()
                    for p in preview.dates
                    if p.holiday is None and p.clock_edge is None
                }
                return _series_form(request, values=values, errors={}, preview=preview, chosen=keep)
            series, _ = await desk.create_series(
                session,
                current(request),
                values,
                chosen,
                tz=tz,
                site_domain=app.settings.site_domain,
                now=utcnow(),
            )
    except InvalidEvent as exc:
        preview = None
        if "dates" in exc.fields:
            async with app.transaction() as session:
                preview = await desk.preview_series(
                    session, values, tz=tz, language=language_of(request)
                )
        return _series_form(
            request,
            values=values,
            errors=exc.fields,
            preview=preview,
            chosen=set(chosen),
            status=exc.status,
        )
    # The series' own page, where all its dates are (web/organiser_series.py reads the note).
    return flash.redirect(
        request, page_link(request, "organiser_series", series_id=series.id), "created"
    )


routes = [
    Route("/organiser/events/new", new_event_page, name="organiser_event_new"),
    Route("/organiser/events/new", create_event, methods=["POST"], name="organiser_event_create"),
    Route("/organiser/events/{event_id:id}", event_page, name="organiser_event"),
    Route("/organiser/events/{event_id:id}/edit", edit_event_page, name="organiser_event_edit"),
    Route(
        "/organiser/events/{event_id:id}/edit",
        save_event,
        methods=["POST"],
        name="organiser_event_save",
    ),
    Route(
        "/organiser/events/{event_id:id}/publish",
        publish,
        methods=["POST"],
        name="organiser_event_publish",
    ),
    Route(
        "/organiser/events/{event_id:id}/unpublish",
        unpublish,
        methods=["POST"],
        name="organiser_event_unpublish",
    ),
    Route(
        "/organiser/events/{event_id:id}/duplicate",
        duplicate,
        methods=["POST"],
        name="organiser_event_duplicate",
    ),
    Route("/organiser/events/{event_id:id}/delete", delete_page, name="organiser_event_delete"),
    Route(
        "/organiser/events/{event_id:id}/delete",
        delete,
        methods=["POST"],
        name="organiser_event_delete_confirmed",
    ),
    Route(
        "/organiser/events/{event_id:id}/examples",
        link_example,
        methods=["POST"],
        name="organiser_event_link_example",
    ),
    Route(
        "/organiser/events/{event_id:id}/examples/move",
        move_example,
        methods=["POST"],
        name="organiser_event_move_example",
    ),
    Route(
        "/organiser/events/{event_id:id}/examples/remove",
        unlink_example,
        methods=["POST"],
        name="organiser_event_unlink_example",
    ),
    Route("/organiser/series/new", new_series_page, name="organiser_series_new"),
    Route("/organiser/series/new", create_series, methods=["POST"], name="organiser_series_create"),
]
