"""The sessions a guide process's steps may link (events.schedule.linkable_sessions): those
not over nor cancelled, drafts included, soonest first, chosen by the database in one
statement (not every event ever read and sifted, nor their seats counted)."""

from __future__ import annotations

from datetime import timedelta

from events.schedule import linkable_sessions, mark_cancelled
from foundation.services import Services
from foundation.timestamps import utcnow
from tests.factories import SOON, make_event
from tests.statements import statements


async def test_the_sessions_a_step_may_link(services: Services) -> None:
    now = utcnow()
    later = await make_event(
        services,
        title="Senare",
        starts_at=SOON + timedelta(days=2),
        ends_at=SOON + timedelta(days=2, hours=1),
    )
    draft = await make_event(services, title="Utkast", publish=False)
    under_way = await make_event(
        services,
        title="Pågår",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(hours=1),
    )
    await make_event(
        services,
        title="Varit",
        starts_at=now - timedelta(days=1),
        ends_at=now - timedelta(hours=23),
    )
    cancelled = await make_event(
        services,
        title="Inställt",
        starts_at=SOON + timedelta(days=1),
        ends_at=SOON + timedelta(days=1, hours=1),
    )
    async with services.transaction() as session:
        await mark_cancelled(session, cancelled.id)
    with statements(services) as sent:
        async with services.reading() as session:
            found = await linkable_sessions(session, now)
    assert [e.title for e in found] == ["Pågår", "Utkast", "Senare"]
    assert [e.id for e in found] == [under_way.id, draft.id, later.id]
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1
