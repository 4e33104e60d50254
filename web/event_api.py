"""JSON for integrations: an agency website embedding the list of events.

Both reads are public (CORS, foundation.cors): any site may fetch and show them. Their
answers are built through the models below, which the OpenAPI document describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from events.models import EventKind, EventStatus
from foundation import ids  # also registers {name:id} before the routes compile
from foundation.openapi import Operation, Reply, versioned
from foundation.services import services
from foundation.site_paths import url
from foundation.timestamps import utcnow
from guide.catalogue import LinkedExample
from registrations import listing
from registrations.overviews import event_overview, programme

Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Instant = Annotated[
    datetime,
    Field(description="ISO 8601 (RFC 3339) in Europe/Stockholm time, with its UTC offset"),
]


class SeriesLink(BaseModel):
    """The series an event belongs to."""

    slug: str
    title: str
    url: Url = Field(description="The series' page")


class GuideLink(BaseModel):
    """A development-guide example that the event discusses."""

    slug: str
    title: str
    organisation: str = Field(description="The municipality or region behind the example")
    note: str = Field(description="Why the event links it; may be empty")
    url: Url = Field(description="The example's page in the development guide")


class PublicEvent(BaseModel):
    """An event as anyone may see it: never the join link of an online event."""

    id: int = Field(ge=1, le=ids.MAX_ID)
    uid: str = Field(description="The iCalendar UID (RFC 5545), stable across changes")
    kind: EventKind
    title: str
    summary: str
    series: SeriesLink | None
    starts_at: Instant
    ends_at: Instant
    online: bool = Field(description="Held online; the join link goes to attendees only")
    venue: str | None = Field(description="Where it is held, for an event on site")
    capacity: int = Field(ge=0, description="Seats in all")
    seats_left: int = Field(ge=0, description="Seats not yet confirmed to anyone")
    waitlist_length: int = Field(ge=0, description="People waiting for a seat")
    # Drafts are never shown.
    status: Literal[EventStatus.PUBLISHED, EventStatus.CANCELLED]
    url: Url = Field(description="The event's page, where a person books")
    guide_examples: list[GuideLink]

    @classmethod
    def of(
        cls, request: Request, item: listing.EventListing, examples: list[LinkedExample]
    ) -> PublicEvent:
        """The public shape of a listed event; links are absolute, from BASE_URL."""
        event = item.event
        settings = services(request).settings
        tz, base = settings.tz, settings.base_url
        series = event.series
        status = event.status
        assert status is not EventStatus.DRAFT, "a draft is never public"
        return cls(
            id=event.id,
            uid=event.uid,
            kind=event.kind,
            title=event.title,
            summary=event.summary,
            series=(
                SeriesLink(
                    slug=series.slug,
                    title=series.title,
                    url=url(base, "series", slug=series.slug),
                )
                if series is not None
                else None
            ),
            starts_at=event.starts_at.astimezone(tz),
            ends_at=event.ends_at.astimezone(tz),
            online=bool(event.join_url),
            venue=event.venue,
            capacity=event.capacity,
            seats_left=item.seats_left,
            waitlist_length=item.waitlisted,
            status=status,
            url=url(base, "event", event_id=event.id),
            guide_examples=[
                GuideLink(
                    slug=linked.example.slug,
                    title=linked.example.title,
                    organisation=linked.example.organisation,
                    note=linked.note,
                    url=url(base, "guide_example", slug=linked.example.slug),
                )
                for linked in examples
            ],
        )


class EventList(BaseModel):
    """Upcoming published events, soonest first."""

    events: list[PublicEvent]


def _json(model: BaseModel) -> Response:
    return JSONResponse(model.model_dump(mode="json"))


async def list_events(request: Request) -> Response:
    async with services(request).transaction() as session:
        on = await programme(session, utcnow(), size=None)
    return _json(
        EventList(events=[PublicEvent.of(request, i, on.examples[i.event.id]) for i in on.items])
    )


async def get_event(request: Request) -> Response:
    app = services(request)
    async with app.transaction() as session:
        overview = await event_overview(  # EventNotFound: a 404 problem
            session, request.path_params["event_id"], utcnow(), tz_name=app.settings.timezone
        )
    return _json(PublicEvent.of(request, overview.item, overview.examples))


LIST_EVENTS = Operation(
    summary="Upcoming published events, soonest first",
    description="Events that have not ended, cafés and workshops alike, with seats left "
    "and the guide examples each discusses. Drafts and cancelled events are not listed.",
    replies={200: Reply("The events", EventList)},
    public=True,
)
GET_EVENT = Operation(
    summary="One event",
    description="A published or cancelled event, also one that has ended.",
    replies={200: Reply("The event", PublicEvent), 404: Reply("No such published event")},
    public=True,
)

routes = [
    *versioned("/events", list_events, method="GET", operation=LIST_EVENTS),
    *versioned("/events/{event_id:id}", get_event, method="GET", operation=GET_EVENT),
]
