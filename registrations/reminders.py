"""Reminders before an event and follow-ups after it: who gets one, and never twice or late."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.models import Event, EventStatus
from mail.models import MessageKind
from mail.outbox import NewMessage, enqueue_many, existing_keys
from registrations.models import Registration, RegistrationStatus

# Reminders are planned for events starting within this horizon; offsets longer than it
# are not supported (a reminder weeks ahead is an announcement, not a reminder).
HORIZON = timedelta(days=30)
FOLLOW_UP_WINDOW = timedelta(days=3)
_CHUNK = 1000


def offsets_for(event: Event, default: tuple[int, ...]) -> tuple[int, ...]:
    """Minutes before start: the event's own, else its series', else the site default."""
    if event.reminder_offsets is not None:
        return tuple(event.reminder_offsets)
    if event.series is not None and event.series.reminder_offsets is not None:
        return tuple(event.series.reminder_offsets)
    return default


async def create_due_reminders(
    session: AsyncSession, *, now: datetime, default_offsets: tuple[int, ...], grace: timedelta
) -> int:
    """Queue the reminders whose time has come (within `grace`); returns how many."""
    events = (
        await session.scalars(
            select(Event)
            .options(selectinload(Event.series))
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + HORIZON,
            )
        )
    ).all()
    created = 0
    for event in events:
        for offset in offsets_for(event, default_offsets):
            due = event.starts_at - timedelta(minutes=offset)
            if due > now or now - due > grace:
                continue
            # The start time is in the key: after a reschedule, reminders for the new time
            # are due afresh, and compose skips any still queued for the old one.
            prefix = f"reminder:{event.id}:{offset}:{int(event.starts_at.timestamp())}:"
            created += await _queue(
                session,
                event,
                MessageKind.REMINDER,
                prefix,
                confirmed_by=due,
                payload={"offset": offset, "starts_at": event.starts_at.isoformat()},
            )
    return created


async def create_due_follow_ups(session: AsyncSession, *, now: datetime, after: timedelta) -> int:
    """Queue the thank-you with the guide examples once an event is over; returns how many."""
    events = (
        await session.scalars(
            select(Event).where(
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at <= now - after,
                Event.ends_at > now - after - FOLLOW_UP_WINDOW,
            )
        )
    ).all()
    created = 0
    for event in events:
        created += await _queue(
            session,
            event,
            MessageKind.FOLLOW_UP,
            f"follow-up:{event.id}:",
            confirmed_by=event.ends_at,
            payload={},
        )
    return created


async def _queue(
    session: AsyncSession,
    event: Event,
    kind: MessageKind,
    prefix: str,
    *,
    confirmed_by: datetime,
    payload: dict[str, int | str],
) -> int:
    taken = await existing_keys(session, prefix)
    # Streamed in chunks of id and address only, not as ORM objects: a café of 10,000
    # attendees is planned in the memory of one chunk.
    rows = await session.stream(
        select(Registration.id, Registration.email)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            # A seat taken after the reminder's time gets no late reminder.
            Registration.confirmed_at <= confirmed_by,
        )
        .order_by(Registration.id)
        .execution_options(yield_per=_CHUNK)
    )
    created = 0
    async for chunk in rows.partitions(_CHUNK):
        new = [
            NewMessage(
                kind=kind,
                recipient=email,
                dedupe_key=f"{prefix}{registration_id}",
                event_id=event.id,
                registration_id=registration_id,
                payload=dict(payload),
                due=confirmed_by,
            )
            for registration_id, email in chunk
            if f"{prefix}{registration_id}" not in taken
        ]
        await enqueue_many(session, new)
        created += len(new)
    return created
