"""One booking as a calendar file, downloaded from its own manage link."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from events.calendar import build_feed
from events.entries import attendee_entry, public_entry
from events.feeds import last_modified
from events.models import Event
from foundation.conditional import CalendarFile
from foundation.site_paths import url_in
from registrations.booking import find_by_token
from registrations.listing import public_event
from registrations.models import RegistrationStatus


async def booking_file(
    session: AsyncSession, token: str, *, base_url: str
) -> tuple[CalendarFile, Event]:
    """The event behind a manage link as a calendar file, and the event.

    Who gets what: a confirmed seat gets the join link and its own manage link, with the
    invite's SEQUENCE (the event's plus the attendee's own), so the file and the mailed
    invite are one calendar entry; anyone else (in line, cancelled) gets the public entry,
    without the join link. Last-Modified counts the registration too: a promotion or a
    cancellation changes the file. Raises RegistrationNotFound for an unknown token, and
    EventNotFound when the event has gone back to being a draft, as the manage page does: a
    draft is never public, not even to one who booked it while it was.
    """
    registration = await find_by_token(session, token)
    event = (await public_event(session, registration.event_id)).event
    # One person's file: its links open in the language they booked in.
    event_url = url_in(registration.language, base_url, "event", event_id=event.id)
    if registration.status == RegistrationStatus.CONFIRMED:
        entry = attendee_entry(
            event,
            event_url=event_url,
            manage_url=url_in(registration.language, base_url, "manage", token=token),
            sequence=registration.invite_sequence(event),
            language=registration.language,
        )
    else:
        entry = public_entry(event, event_url=event_url)
    changed = last_modified([event.updated_at, registration.updated_at])
    return CalendarFile.of(build_feed([entry], name=event.title), changed), event
