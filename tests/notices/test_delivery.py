"""Delivering the outbox to a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL.

What an attendee or organiser would notice: a greylisted mail arrives on the next try, a
bounced one shows as failed with the server's words, a moot one is never sent, and however
many workers race over the outbox, every message arrives exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update

from events.schedule import EventChanges
from foundation.timestamps import utcnow
from mail.models import Audience, MessageKind, OutboxMessage, OutboxStatus
from mail.outbox import send_progress
from notices.delivery import LEASE, DeliveryReport
from registrations.messaging import send_message, send_reminder_now
from registrations.organising import update_event
from registrations.reminders import create_due_reminders
from tests.conftest import Mail, MailFactory, SmtpServer
from tests.factories import (
    JOIN_URL,
    add_confirmed,
    address,
    book,
    cancel,
    make_due_now,
    make_event,
    outbox,
    outbox_ids,
)
from tests.ports import free_port

# --- retries, bounces, outages ------------------------------------------------------------------


async def test_greylisted_mail_is_retried_later_then_arrives(mail: Mail) -> None:
    event = await make_event(mail.services)
    mail.server.recorder.rcpt_replies.append("451 4.7.1 Greylisted, try again later")
    await book(mail.services, event.id, 1)

    before = utcnow()
    report = await mail.deliver()
    assert report == DeliveryReport(retried=1)
    (row,) = await outbox(mail.services)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.next_attempt_at > before + timedelta(seconds=30)
    assert row.last_error is not None
    assert "451" in row.last_error
    assert mail.messages == []

    # Not due yet: another run leaves it waiting.
    assert await mail.deliver() == DeliveryReport()

    await make_due_now(mail.services)
    assert await mail.deliver() == DeliveryReport(sent=1)
    (row,) = await outbox(mail.services)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, None)
    assert row.sent_at is not None
    assert str(mail.only(address(1))["Subject"]).startswith("Bekräftad plats:")


async def test_a_bounce_fails_at_once_with_the_servers_answer(mail: Mail) -> None:
    event = await make_event(mail.services)
    mail.server.recorder.rcpt_replies.append("550 5.1.1 <person1@kommun.example.se>: no such user")
    await book(mail.services, event.id, 1)

    assert await mail.deliver() == DeliveryReport(failed=1)
    (row,) = await outbox(mail.services)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.last_error is not None
    assert "550 5.1.1" in row.last_error
    assert "no such user" in row.last_error

    # A failed row is never picked up again, however long one waits.
    async with mail.services.transaction() as session:
        await session.execute(
            update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(days=1))
        )
    assert await mail.deliver() == DeliveryReport()
    assert mail.messages == []
    assert (await outbox(mail.services))[0].attempts == 1


async def test_a_relay_refusing_connections_means_retry(
    mail_factory: MailFactory, start_server: Callable[..., SmtpServer]
) -> None:
    closed = free_port()
    down = mail_factory(start_server(), SMTP_URL=f"smtp://127.0.0.1:{closed}?timeout=5")
    event = await make_event(down.services)
    await book(down.services, event.id, 1)

    assert await down.deliver() == DeliveryReport(retried=1)
    (row,) = await outbox(down.services)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.next_attempt_at > utcnow()
    assert row.last_error is not None
    assert str(closed) in row.last_error

    # The relay comes back (here: another SMTP_URL on the same database) and the mail goes.
    up = mail_factory()
    await make_due_now(up.services)
    assert await up.deliver() == DeliveryReport(sent=1)
    assert len(up.to(address(1))) == 1


# --- moot messages are skipped ------------------------------------------------------------------


async def test_a_reminder_for_a_seat_given_up_is_skipped(mail: Mail) -> None:
    # The 24 h reminder fell due five minutes ago.
    starts = utcnow().replace(microsecond=0) + timedelta(hours=24) - timedelta(minutes=5)
    event = await make_event(mail.services, starts_at=starts, ends_at=starts + timedelta(hours=1))
    booked_at = starts - timedelta(days=3)
    kept = await book(mail.services, event.id, 1, now=booked_at)
    given_up = await book(mail.services, event.id, 2, now=booked_at)
    await mail.deliver()
    mail.clear()
    async with mail.services.transaction() as session:
        planned = await create_due_reminders(
            session,
            now=utcnow(),
            default_offsets=mail.services.settings.reminder_offsets,
            grace=mail.services.settings.reminder_grace,
        )
    assert planned == 2
    await cancel(mail.services, given_up.manage_token)

    report = await mail.deliver()
    assert (report.sent, report.skipped) == (2, 1)  # kept's reminder, given_up's CANCEL
    assert str(mail.only(address(1))["Subject"]).startswith("Påminnelse:")
    assert str(mail.only(address(2))["Subject"]).startswith("Avbokad:")
    skipped = [r for r in await outbox(mail.services) if r.status == OutboxStatus.SKIPPED]
    assert [(r.kind, r.registration_id) for r in skipped] == [
        (MessageKind.REMINDER, given_up.registration.id)
    ]
    assert skipped[0].last_error == "the registration is no longer confirmed"
    assert kept.registration.id != given_up.registration.id


async def test_a_change_superseded_before_delivery_is_skipped(mail: Mail) -> None:
    event = await make_event(mail.services)
    await book(mail.services, event.id, 1)
    await mail.deliver()
    mail.clear()

    first = event.starts_at + timedelta(hours=1)
    final = event.starts_at + timedelta(hours=2)
    for starts in (first, final):
        async with mail.services.transaction() as session:
            await update_event(session, event.id, EventChanges(starts_at=starts))

    # The first is folded into the second when that is written, and skipped then.
    assert await mail.deliver() == DeliveryReport(sent=1)
    changed = mail.only(address(1))
    assert str(changed["Subject"]).startswith("Ändrat:")
    (superseded,) = [r for r in await outbox(mail.services) if r.status == OutboxStatus.SKIPPED]
    assert superseded.kind == MessageKind.EVENT_CHANGED
    assert superseded.last_error == "a later change superseded this one"
    assert superseded.payload["event_sequence"] == 1


# --- racing and crashed workers -----------------------------------------------------------------


async def test_two_workers_racing_deliver_every_message_exactly_once(
    mail_factory: MailFactory, start_server: Callable[..., SmtpServer]
) -> None:
    # A relay taking a moment over each message, as a real one does: else the worker whose
    # pool connects first can send all 300 before the other has claimed a batch.
    mail = mail_factory(start_server(data_delay=0.003))
    # Two Services are two worker processes: separate engines and connection pools.
    other = mail_factory(mail.server)
    event = await make_event(mail.services, capacity=1000)
    await add_confirmed(mail.services, event.id, range(1, 301))
    async with mail.services.transaction() as session:
        await send_message(
            session, event.id, subject="Viktigt", body="Läs detta.", audience=Audience.CONFIRMED
        )

    reports = await asyncio.gather(
        mail.deliver(batch_size=25, connections=2), other.deliver(batch_size=25, connections=2)
    )

    rows = await outbox(mail.services)
    assert len(rows) == 300
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert {r.attempts for r in rows} == {1}
    received = outbox_ids(mail.messages)
    assert received == Counter({r.id: 1 for r in rows})
    assert sorted(str(m["To"]).split("<")[1].rstrip(">") for m in mail.messages) == sorted(
        address(n) for n in range(1, 301)
    )
    assert sum(r.sent for r in reports) == 300
    assert all(r.sent > 0 for r in reports), reports  # both really took part


async def test_rows_of_a_crashed_worker_are_sent_once_the_lease_runs_out(mail: Mail) -> None:
    event = await make_event(mail.services)
    for n in (1, 2, 3):
        await book(mail.services, event.id, n)
    rows = await outbox(mail.services)
    crashed, alive = rows[:2], rows[2]
    now = utcnow()
    async with mail.services.transaction() as session:
        # Claimed by a worker that died: the lease ran out a minute ago.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in crashed]))
            .values(
                status=OutboxStatus.SENDING, attempts=1, next_attempt_at=now - timedelta(minutes=1)
            )
        )
        # Claimed by a worker still busy with it: its lease runs for minutes yet.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == alive.id)
            .values(status=OutboxStatus.SENDING, attempts=1, next_attempt_at=now + LEASE)
        )

    assert await mail.deliver() == DeliveryReport(sent=2)
    assert outbox_ids(mail.messages) == Counter({r.id: 1 for r in crashed})
    after = {r.id: r for r in await outbox(mail.services)}
    assert [(after[r.id].status, after[r.id].attempts) for r in crashed] == [
        (OutboxStatus.SENT, 2)
    ] * 2
    assert after[alive.id].status == OutboxStatus.SENDING
    assert mail.to(address(3)) == []


# --- organisers' sends and their progress -------------------------------------------------------


async def test_organiser_sends_reach_their_audience_and_show_progress(mail: Mail) -> None:
    event = await make_event(mail.services, capacity=3)
    for n in range(1, 6):  # 1-3 confirmed, 4-5 waitlisted
        await book(mail.services, event.id, n)
    await mail.deliver()
    mail.clear()
    confirmed = {address(n) for n in (1, 2, 3)}
    waitlisted = {address(n) for n in (4, 5)}

    sends = {}
    async with mail.services.transaction() as session:
        sends["reminder"] = await send_reminder_now(session, event.id)
        for audience in Audience:
            sends[audience.value] = await send_message(
                session,
                event.id,
                subject=f"Till {audience.value}",
                body=f"Hej {audience.value}!\n\nAndra stycket.",
                audience=audience,
            )
    async with mail.services.transaction() as session:
        progress = {name: await send_progress(session, s.id) for name, s in sends.items()}
    expected_counts = {"reminder": 3, "confirmed": 3, "waitlisted": 2, "all": 5}
    for name, count in expected_counts.items():
        assert progress[name] == {"queued": count, "sent": 0, "failed": 0, "skipped": 0}

    # The second RCPT the server sees bounces, whichever message that is.
    mail.server.recorder.rcpt_replies.extend([None, "550 5.1.1 no such user"])
    report = await mail.deliver()
    assert (report.sent, report.failed) == (12, 1)

    async with mail.services.transaction() as session:
        progress = {name: await send_progress(session, s.id) for name, s in sends.items()}
    assert sum(p["failed"] for p in progress.values()) == 1
    for name, count in expected_counts.items():
        p = progress[name]
        assert p["queued"] == p["skipped"] == 0
        assert p["sent"] + p["failed"] == count
    (bounced,) = [r for r in await outbox(mail.services) if r.status == OutboxStatus.FAILED]
    assert bounced.last_error is not None
    assert "550 5.1.1 no such user" in bounced.last_error

    def received(subject_start: str) -> set[str]:
        return {
            str(m["To"]).split("<")[1].rstrip(">")
            for m in mail.messages
            if str(m["Subject"]).startswith(subject_start)
        }

    def audience_of(name: str, everyone: set[str]) -> set[str]:
        return everyone - {bounced.recipient} if bounced.send_id == sends[name].id else everyone

    assert received("Påminnelse:") == audience_of("reminder", confirmed)
    assert received("Till confirmed") == audience_of("confirmed", confirmed)
    assert received("Till waitlisted") == audience_of("waitlisted", waitlisted)
    assert received("Till all") == audience_of("all", confirmed | waitlisted)
    for message in mail.messages:
        text = message.get_body(("plain",))
        assert text is not None
        body = text.get_content()
        to_confirmed = any(a in str(message["To"]) for a in confirmed)
        assert (JOIN_URL in body) == to_confirmed, (message["To"], message["Subject"])
        if str(message["Subject"]).startswith("Till "):
            assert "Andra stycket." in body
            html = message.get_body(("html",))
            assert html is not None
            assert "<p>Andra stycket.</p>" in html.get_content()
