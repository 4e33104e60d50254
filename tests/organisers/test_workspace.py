"""The overview's mail health per event: each row its own failed and stuck mails, linking to
that event's outbox, read in one grouped query for the whole page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import event as sa_event
from sqlalchemy import update

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage, OutboxStatus
from organisers.workspace import overview
from tests.factories import book, make_event, outbox
from tests.signing_in import signed_in_client, text_of


async def troubled_events(services: Services) -> tuple[int, int, int]:
    """Three events: one with a failed mail, one with a mail stuck an hour, one healthy."""
    failing, stuck, healthy = [
        await make_event(services, title=f"Kafé {n}", capacity=5) for n in range(3)
    ]
    for n, item in enumerate((failing, stuck, healthy), start=1):
        await book(services, item.id, n)
    rows = {row.event_id: row.id for row in await outbox(services)}
    async with services.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[failing.id])
            .values(status=OutboxStatus.FAILED)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[stuck.id])
            .values(next_attempt_at=utcnow() - timedelta(hours=1))
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[healthy.id])
            .values(status=OutboxStatus.SENT)
        )
    return failing.id, stuck.id, healthy.id


async def test_each_event_row_shows_its_own_failed_and_stuck_mail(services: Services) -> None:
    failing, stuck, healthy = await troubled_events(services)
    async with signed_in_client(services) as client:
        page = await client.get("/organiser/")
    assert page.status_code == 200
    rows = {
        title: row
        for row in page.text.split("<tr>")[1:]
        for title in ("Kafé 0", "Kafé 1", "Kafé 2")
        if f">{title}</a>" in row
    }
    assert "1 misslyckades" in text_of_html(rows["Kafé 0"])
    assert f'href="/organiser/events/{failing}/outbox"' in rows["Kafé 0"]
    assert "1 har fastnat" in text_of_html(rows["Kafé 1"])
    assert f'href="/organiser/events/{stuck}/outbox"' in rows["Kafé 1"]
    assert f"/organiser/events/{healthy}/outbox" not in rows["Kafé 2"]
    assert "misslyckades" not in text_of_html(rows["Kafé 2"])
    assert "E-post" in text_of(page)  # the site-wide line stays


def text_of_html(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)))


async def test_the_overview_reads_mail_health_in_one_query_however_many_events(
    services: Services,
) -> None:
    await troubled_events(services)
    counted: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "outbox_messages" in statement:
            counted.append(statement)

    sa_event.listen(services.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with services.transaction() as session:
            few = await overview(session, utcnow())
        first = len(counted)
        for n in range(5):
            await make_event(services, title=f"Fler {n}")
        counted.clear()
        async with services.transaction() as session:
            many = await overview(session, utcnow())
    finally:
        sa_event.remove(services.engine.sync_engine, "before_cursor_execute", count)
    assert len(counted) == first
    assert len(many.upcoming) == len(few.upcoming) + 5
    by_event = {item.event.title: many.mail_of(item.event.id) for item in many.upcoming}
    assert (by_event["Kafé 0"].failed, by_event["Kafé 0"].stuck) == (1, 0)
    assert (by_event["Kafé 1"].failed, by_event["Kafé 1"].stuck) == (0, 1)
    assert (by_event["Kafé 2"].failed, by_event["Kafé 2"].stuck) == (0, 0)
