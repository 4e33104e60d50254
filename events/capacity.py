"""An event's capacity grown by one seat for one person, outside a change of the event.

An organiser who gives someone in line a seat of their own (registrations.waitlist.give_seat)
adds exactly one seat for them: a change through `events.schedule.apply_changes` would fill
the new seat from the head of the line instead, which is the rule for a raise.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from events.models import Event


def add_seat(session: AsyncSession, event: Event, now: datetime) -> int:
    """One more seat on `event`, which the caller holds locked (events.schedule.lock_event);
    returns the new capacity. The event's last change moves, so a change preview shown
    before no longer holds (registrations.organising)."""
    event.capacity += 1
    event.updated_at = now
    session.info["events_changed"] = True
    return event.capacity
