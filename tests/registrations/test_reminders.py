"""Reminders before an event and the follow-up after it: who gets one, once, and never late.

Planning takes `now` as an argument, so most of these walk a clock past an event ten days
ahead; the ones about what happens at delivery use the real clock and a real SMTP server.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from events.models import Event, Series
from events.schedule import EventChanges
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import MessageKind, OutboxMessage, OutboxStatus
from registrations.organising import update_event
from registrations.reminders import create_due_follow_ups, create_due_reminders
from tests.conftest import Mail
from tests.factories import SOON, address, book, cancel, make_event, make_series

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


async def plan(services: Services, now: datetime) -> int:
    settings = services.settings
    async with services.transaction() as session:
        return await create_due_reminders(
            session,
            now=now,
            default_offsets=settings.reminder_offsets,
            grace=settings.reminder_grace,
        )


async def reminders(services: Services) -> list[tuple[int, str]]:
    """(offset in minutes, recipient) of every reminder row, in order."""
    async with services.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == MessageKind.REMINDER)
            .order_by(OutboxMessage.id)
        )
        return [(int(r.payload["offset"]), r.recipient) for r in rows]


async def test_default_offsets_once_each_and_only_for_the_confirmed(services: Services) -> None:
    assert services.settings.reminder_offsets == (24 * 60, 60)
    event = await make_event(services, capacity=2)
    for n in (1, 2, 3):  # 3 waits
        await book(services, event.id, n, now=SOON - 5 * DAY)

    assert await plan(services, SOON - 25 * HOUR) == 0  # nothing due yet
    assert await plan(services, SOON - DAY + MINUTE) == 2
    assert await plan(services, SOON - DAY + 2 * MINUTE) == 0  # planning again adds nothing
    assert await plan(services, SOON - 2 * HOUR) == 0
    assert await plan(services, SOON - HOUR) == 2
    assert await plan(services, SOON - HOUR + MINUTE) == 0
    assert await plan(services, SOON - MINUTE) == 0
    assert await reminders(services) == [
        (1440, address(1)),
        (1440, address(2)),
        (60, address(1)),
        (60, address(2)),
    ]
    # Due at its time, not at planning time, so a sweep's lag is not added to it.
    async with services.transaction() as session:
        due = (
            await session.scalars(
                select(OutboxMessage.next_attempt_at).where(
                    OutboxMessage.kind == MessageKind.REMINDER
                )
            )
        ).all()
    assert sorted(due) == [SOON - DAY] * 2 + [SOON - HOUR] * 2


async def test_no_late_reminders(services: Services) -> None:
    event = await make_event(services)
    await book(services, event.id, 1, now=SOON - 5 * DAY)
    # Booked after the 24 h reminder's time: that one is not sent late, the 1 h one is.
    await book(services, event.id, 2, now=SOON - DAY + 5 * MINUTE)

    # The planner was down until more than REMINDER_GRACE (30 min) after the 24 h time.
    assert await plan(services, SOON - DAY + 31 * MINUTE) == 0
    assert await plan(services, SOON - HOUR + 10 * MINUTE) == 2
    assert await reminders(services) == [(60, address(1)), (60, address(2))]


async def test_a_promoted_person_gets_only_the_reminders_still_ahead(
    services: Services,
) -> None:
    # Real clock: promotion stamps the seat with the time it happened.
    starts = utcnow().replace(microsecond=0) + DAY - 10 * MINUTE
    event = await make_event(services, capacity=1, starts_at=starts, ends_at=starts + HOUR)
    first = await book(services, event.id, 1, now=starts - 3 * DAY)
    await book(services, event.id, 2, now=starts - 3 * DAY)  # waits
    assert await plan(services, utcnow()) == 1

    await cancel(services, first.manage_token)  # person 2 gets the seat now
    assert await plan(services, utcnow()) == 0  # the 24 h reminder's time has passed
    assert await plan(services, starts - HOUR + MINUTE) == 1
    assert await reminders(services) == [(1440, address(1)), (60, address(2))]


async def test_event_and_series_offsets_override_the_default(services: Services) -> None:
    own = await make_event(services)
    plain = await make_event(services)
    in_series, _, _ = await make_series(services, events=3)
    async with services.transaction() as session:
        (await session.get_one(Event, own.id)).reminder_offsets = [30]
        series = await session.scalar(select(Series))
        assert series is not None
        series.reminder_offsets = [3 * 60]
    for event in (own, plain, in_series):
        await book(services, event.id, 1, now=SOON - 5 * DAY)

    checkpoints = [SOON - DAY, SOON - 3 * HOUR, SOON - HOUR, SOON - 30 * MINUTE]
    planned = [await plan(services, at) for at in checkpoints]
    assert planned == [1, 1, 1, 1]
    async with services.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        got = [(r.event_id, r.payload["offset"]) for r in rows if r.kind == MessageKind.REMINDER]
    assert got == [(plain.id, 1440), (in_series.id, 180), (plain.id, 60), (own.id, 30)]


async def test_follow_up_once_after_the_event(services: Services) -> None:
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1, now=SOON - 5 * DAY)
    await book(services, event.id, 2, now=SOON - 5 * DAY)  # waits: was never there
    ends = event.ends_at
    after = services.settings.follow_up_after
    assert after == 2 * HOUR

    async def follow_ups(now: datetime) -> int:
        async with services.transaction() as session:
            return await create_due_follow_ups(session, now=now, after=after)

    assert await follow_ups(ends + after - MINUTE) == 0
    assert await follow_ups(ends + after) == 1
    assert await follow_ups(ends + after + HOUR) == 0
    assert await follow_ups(ends + 2 * DAY) == 0
    async with services.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
        assert [(r.kind, r.recipient) for r in rows if r.kind == MessageKind.FOLLOW_UP] == [
            (MessageKind.FOLLOW_UP, address(1))
        ]


async def test_a_reminder_delivered_after_the_grace_is_skipped(mail: Mail) -> None:
    # Due 40 minutes ago; planned in time (25 minutes late), but the mail only goes now.
    starts = utcnow().replace(microsecond=0) + DAY - 40 * MINUTE
    event = await make_event(mail.services, starts_at=starts, ends_at=starts + HOUR)
    await book(mail.services, event.id, 1, now=starts - 3 * DAY)
    await mail.deliver()
    mail.clear()
    assert await plan(mail.services, starts - DAY + 25 * MINUTE) == 1

    report = await mail.deliver()
    assert (report.sent, report.skipped) == (0, 1)
    assert mail.messages == []
    async with mail.services.transaction() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == MessageKind.REMINDER)
        )
    assert row is not None
    assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, "too late to remind")


async def test_a_reschedule_replans_reminders_and_skips_the_stale_one(mail: Mail) -> None:
    # The 24-hour reminder is due now; before it goes out, the café moves a week later.
    starts = utcnow().replace(microsecond=0) + DAY - 5 * MINUTE
    event = await make_event(mail.services, starts_at=starts, ends_at=starts + HOUR)
    await book(mail.services, event.id, 1, now=starts - 3 * DAY)
    await mail.deliver()
    mail.clear()
    assert await plan(mail.services, utcnow()) == 1
    async with mail.services.transaction() as session:
        await update_event(session, event.id, EventChanges(starts_at=starts + 7 * DAY))

    report = await mail.deliver()
    subjects = [m["Subject"] for m in mail.messages]
    assert report.skipped == 1, subjects
    assert not any(s.startswith("Påminnelse") for s in subjects)
    assert any(s.startswith("Ändrat") for s in subjects)
    # At the new time the reminders are due afresh, once.
    moved = starts + 7 * DAY
    assert await plan(mail.services, moved - DAY + MINUTE) == 1
    assert await plan(mail.services, moved - DAY + 2 * MINUTE) == 0
