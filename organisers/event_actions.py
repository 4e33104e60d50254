"""What an organiser does to events through the API: create, change, publish, cancel.

Each calls the same domain functions the pages and the command line call (events.schedule
to create and publish, registrations.organising to change and cancel, so attendees get the
same updated invites, cancellations and promotions), logs the action in the audit log in
the same transaction with ids and field names only, and answers the event with its counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.errors import EventNotFound
from events.models import Event, EventStatus
from events.schedule import EventChanges, EventDraft, create_event, publish_event
from foundation.ids import is_id
from organisers import audit
from organisers.models import Organiser
from registrations import listing
from registrations.errors import NothingToChange
from registrations.organising import cancel_event, preview_update, update_event


async def event_of(session: AsyncSession, event_id: int) -> listing.EventListing:
    """An event as an organiser sees it, drafts included, with its seat and waitlist
    counts. Raises EventNotFound."""
    event = (
        await session.scalar(
            select(Event)
            .options(selectinload(Event.series))
            .where(Event.id == event_id)
            .execution_options(populate_existing=True)
        )
        if is_id(event_id)
        else None
    )
    if event is None:
        raise EventNotFound()
    return (await listing.with_counts(session, [event]))[0]


async def create(
    session: AsyncSession,
    organiser: Organiser,
    draft: EventDraft,
    *,
    site_domain: str,
    now: datetime,
) -> listing.EventListing:
    """A new event (a draft unless `draft.publish`), logged as created (and published).
    Raises what events.schedule.create_event raises."""
    event = await create_event(session, draft, site_domain=site_domain)
    subject = f"event:{event.id}"
    await audit.record(session, organiser, "event.created", subject, now=now)
    if draft.publish:
        await audit.record(session, organiser, "event.published", subject, now=now)
    return await event_of(session, event.id)


async def change(
    session: AsyncSession,
    organiser: Organiser,
    event_id: int,
    changes: EventChanges,
    *,
    publish: bool,
    now: datetime,
) -> listing.EventListing:
    """Change an event's fields (confirmed attendees get an updated invite when its time,
    place, link or title moves; more seats promote from the waitlist), then publish it
    when `publish` and it is not published yet. Each step is logged with the names of the
    fields changed, never their values. Raises EventNotFound, InvalidEvent, or
    NothingToChange when neither a field nor the state would change (the one rule of
    registrations.organising); nothing is changed when it raises."""
    subject = f"event:{event_id}"
    publish = publish and (await event_of(session, event_id)).event.status != (
        EventStatus.PUBLISHED
    )
    try:
        preview = await preview_update(session, event_id, changes)
    except NothingToChange:
        if not publish:
            raise
    else:
        event = await update_event(session, event_id, changes)
        await audit.record(
            session,
            organiser,
            # The workspace's change flow calls the same update_event and logs the same.
            "event.changed",
            subject,
            now=now,
            fields=",".join(sorted(preview.changes)),
            sequence=event.sequence,
        )
    if publish:
        await publish_event(session, event_id)
        await audit.record(session, organiser, "event.published", subject, now=now)
    return await event_of(session, event_id)


async def cancel(
    session: AsyncSession, organiser: Organiser, event_id: int, *, reason: str, now: datetime
) -> listing.EventListing:
    """Cancel an event: everyone booked or waiting is told, with `reason` ("" for none) in
    their notice, and calendars drop it; logged with how many were told, never the reason.
    Raises EventNotFound, AlreadyCancelled (changing and logging nothing), DraftNotCancelled,
    or InvalidEvent for a reason that is too long or not text."""
    before = await event_of(session, event_id)
    await cancel_event(session, event_id, note=reason)
    await audit.record(
        session,
        organiser,
        "event.cancelled",
        f"event:{event_id}",
        now=now,
        # The same words as the workspace's cancel (organisers.changes).
        cancelled=before.confirmed,
        waitlist_told=before.waitlisted,
        note=bool(reason.strip()),
    )
    return await event_of(session, event_id)
