"""A series' own page in the organiser workspace, and what reaches all its dates at once:
publish the drafts (after a confirmation), edit the series, one registration window, link
or unlink a guide example, add a date. Each handler reads its form, makes one call to
organisers.series_workspace inside a transaction, and renders or redirects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.errors import EventStateRefused, InvalidEvent, WindowClosesBooking
from events.series_dates import MAX_DATES
from foundation import csrf, flash, form_text, ids  # noqa: F401  (ids registers {name:id})
from foundation.rendering import page_link, render, said
from foundation.services import services
from foundation.timestamps import utcnow
from guide.errors import ExampleNotFound, InvalidExample
from organisers import series_workspace as desk
from organisers.access import current, requires
from organisers.errors import DraftsChangedSinceShown
from organisers.models import Organiser

SERIES_FIELDS = ("title", "summary", "description", "host", "reminder_offsets")
WINDOW_FIELDS = (
    "opens",
    "opens_days",
    "opens_at",
    "opens_at_offset",  # the reading chosen of a time the clocks repeat (foundation.typed_times)
    "closes",
    "closes_hours",
    "closes_at",
    "closes_at_offset",
    "closing",  # the ids of the dates shown to close for booking now (WindowClosesBooking)
)


def _series_id(request: Request) -> int:
    return int(request.path_params["series_id"])


def _to_series(request: Request, series_id: int, note: str, anchor: str = "") -> Response:
    """Back to the series page, leaving it `note` ("published:3": a kind and a count)."""
    path = page_link(request, "organiser_series", series_id=series_id)
    return flash.redirect(request, path, note, fragment=anchor)


async def _desk(request: Request, series_id: int) -> desk.SeriesDesk:
    app = services(request)
    async with app.transaction() as session:
        return await desk.series_desk(session, series_id, now=utcnow(), tz=app.settings.timezone)


async def _series_page(
    request: Request,
    series_id: int,
    *,
    refused: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    seen = await _desk(request, series_id)
    note = None
    if refused is None and not errors:
        note = flash.read(request, services(request).settings.secret_key)
    kind, _, count = (note or "").partition(":")
    response = render(
        request,
        "organiser/series/page.html",
        {
            "organiser": current(request),
            "desk": seen,
            "refused": refused,
            "note": kind or None,
            "note_count": int(count) if count.isdigit() else 0,
            "errors": errors or {},
            "values": values or {"day": seen.next_day.isoformat()},
        },
        status_code=status,
    )
    return flash.forget(request, response)


@requires()
async def series_page(request: Request) -> Response:
    return await _series_page(request, _series_id(request))


def _form(
    request: Request,
    template: str,
    seen: desk.SeriesDesk,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    **more: object,
) -> Response:
    """A form of the series' own (`template` under organiser/series/)."""
    return render(
        request,
        f"organiser/series/{template}",
        {
            "organiser": current(request),
            "desk": seen,
            "values": values,
            "errors": errors,
            **more,
        },
        status_code=status,
    )


@requires()
async def edit_page(request: Request) -> Response:
    seen = await _desk(request, _series_id(request))
    return _form(request, "form.html", seen, values=desk.series_values(seen.series), errors={})


@requires()
async def save(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = form_text.fields(form, SERIES_FIELDS)
    series_id = _series_id(request)
    try:
        async with app.transaction() as session:
            await desk.save_series(session, current(request), series_id, values, now=utcnow())
    except InvalidEvent as exc:
        seen = await _desk(request, series_id)
        return _form(
            request, "form.html", seen, values=values, errors=exc.fields, status=exc.status
        )
    return _to_series(request, series_id, "saved")


async def _publish_page(
    request: Request, series_id: int, *, refused: str | None = None, status: int = 200
) -> Response:
    seen = await _desk(request, series_id)
    return render(
        request,
        "organiser/series/publish.html",
        {"organiser": current(request), "desk": seen, "refused": refused},
        status_code=status,
    )


@requires()
async def publish_page(request: Request) -> Response:
    return await _publish_page(request, _series_id(request))


@requires()
async def publish(request: Request) -> Response:
    app = services(request)
    # One id per listed draft besides the token.
    form = await csrf.checked_form(request, app.settings.secret_key, max_fields=MAX_DATES * 4)
    series_id = _series_id(request)
    chosen = [str(raw)[:40] for raw in form.getlist("event")]
    try:
        async with app.transaction() as session:
            published = await desk.publish_drafts(
                session, current(request), series_id, chosen, now=utcnow()
            )
    except DraftsChangedSinceShown as exc:  # the list as it is now, to confirm again
        return await _publish_page(
            request, series_id, refused=said(request, exc), status=exc.status
        )
    except (InvalidEvent, EventStateRefused) as exc:
        return await _series_page(request, series_id, refused=said(request, exc), status=exc.status)
    return _to_series(request, series_id, f"published:{len(published)}")


@requires()
async def window_page(request: Request) -> Response:
    seen = await _desk(request, _series_id(request))
    values = desk.window_values(seen.window, services(request).settings.timezone)
    return _form(request, "window.html", seen, values=values, errors={})


@requires()
async def set_window(request: Request) -> Response:
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    values = form_text.fields(form, WINDOW_FIELDS)
    series_id = _series_id(request)
    try:
        async with app.transaction() as session:
            dates = await desk.set_window(
                session,
                current(request),
                series_id,
                values,
                tz=app.settings.timezone,
                now=utcnow(),
            )
    except InvalidEvent as exc:
        seen = await _desk(request, series_id)
        return _form(
            request, "window.html", seen, values=values, errors=exc.fields, status=exc.status
        )
    except WindowClosesBooking as exc:  # said first: saved only once confirmed
        seen = await _desk(request, series_id)
        values["closing"] = ",".join(str(d.id) for d in exc.dates)
        return _form(
            request,
            "window.html",
            seen,
            values=values,
            errors={},
            status=exc.status,
            closing=exc.dates,
        )
    return _to_series(request, series_id, f"window:{len(dates)}")


# A form's step on the series page: (session, organiser, series id, the form's fields by
# name) → how many dates it reached.
Step = Callable[[AsyncSession, Organiser, int, dict[str, str]], Awaitable[int]]


async def _on_page(request: Request, step: Step, note: str, anchor: str, *names: str) -> Response:
    """A form on the series page: the step, then back to the page at `anchor`, or the page
    with the fault next to the field (or the first of `names`) and what was typed kept."""
    app = services(request)
    form = await csrf.checked_form(request, app.settings.secret_key)
    series_id = _series_id(request)
    fields = {name: form_text.field(form, name, 2_000) for name in names}
    try:
        async with app.transaction() as session:
            count = await step(session, current(request), series_id, fields)
    except (InvalidEvent, InvalidExample, ExampleNotFound) as exc:
        return await _series_page(
            request,
            series_id,
            status=exc.status,
            errors=exc.fields or {names[0]: exc.msgid},
            values=fields,
        )
    return _to_series(request, series_id, f"{note}:{count}", anchor)


@requires()
async def link_example(request: Request) -> Response:
    async def step(
        session: AsyncSession, organiser: Organiser, series_id: int, form: dict[str, str]
    ) -> int:
        return await desk.link_example(
            session, organiser, series_id, form["example"], form["note"], utcnow()
        )

    return await _on_page(request, step, "linked", "#examples-title", "example", "note")


@requires()
async def unlink_example(request: Request) -> Response:
    async def step(
        session: AsyncSession, organiser: Organiser, series_id: int, form: dict[str, str]
    ) -> int:
        return await desk.unlink_example(
            session, organiser, series_id, form["example_id"], utcnow()
        )

    return await _on_page(request, step, "unlinked", "#examples-title", "example_id")


@requires()
async def add_date(request: Request) -> Response:
    settings = services(request).settings

    async def step(
        session: AsyncSession, organiser: Organiser, series_id: int, form: dict[str, str]
    ) -> int:
        await desk.add_date(
            session,
            organiser,
            series_id,
            form["day"],
            form["day_offset"],
            tz=settings.timezone,
            site_domain=settings.site_domain,
            now=utcnow(),
        )
        return 1

    return await _on_page(request, step, "added", "#dates-title", "day", "day_offset")


routes = [
    Route("/organiser/series/{series_id:id}", series_page, name="organiser_series"),
    Route("/organiser/series/{series_id:id}/edit", edit_page, name="organiser_series_edit"),
    Route(
        "/organiser/series/{series_id:id}/edit",
        save,
        methods=["POST"],
        name="organiser_series_save",
    ),
    Route(
        "/organiser/series/{series_id:id}/publish", publish_page, name="organiser_series_publish"
    ),
    Route(
        "/organiser/series/{series_id:id}/publish",
        publish,
        methods=["POST"],
        name="organiser_series_publish_confirmed",
    ),
    Route(
        "/organiser/series/{series_id:id}/registration",
        window_page,
        name="organiser_series_window",
    ),
    Route(
        "/organiser/series/{series_id:id}/registration",
        set_window,
        methods=["POST"],
        name="organiser_series_window_save",
    ),
    Route(
        "/organiser/series/{series_id:id}/examples",
        link_example,
        methods=["POST"],
        name="organiser_series_link_example",
    ),
    Route(
        "/organiser/series/{series_id:id}/examples/remove",
        unlink_example,
        methods=["POST"],
        name="organiser_series_unlink_example",
    ),
    Route(
        "/organiser/series/{series_id:id}/dates",
        add_date,
        methods=["POST"],
        name="organiser_series_add_date",
    ),
]
