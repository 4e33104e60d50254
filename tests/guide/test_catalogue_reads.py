"""The demo guide as the catalogue's reads give it to the pages: nine challenges with counts,
the tip with its questions and examples, the six-step process in two phases with its
checkpoint, a challenge with its methods, examples and sessions, and events linked to a tip
or a process both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from events.models import Event
from foundation.services import Services
from foundation.timestamps import utcnow
from guide.catalogue import challenge_counts, challenge_page, copy_links, get_example
from guide.errors import InvalidTip
from guide.methods import link_method, methods_for_event, process_page, tip_page
from lunchkafe.demo import load_demo


async def test_the_demo_guide_reads_as_the_issue_describes(services: Services) -> None:
    await load_demo(services, only_if_empty=False)
    now = utcnow()
    async with services.transaction() as session:
        counts = await challenge_counts(session)
        assert len(counts) == 9
        names = [c.challenge.name for c in counts]
        assert names[:3] == ["Förenkling", "Företagsklimat", "Samhällsplanering"]
        planning = next(c for c in counts if c.challenge.slug == "samhallsplanering")
        assert (planning.examples, planning.tips, planning.processes) == (3, 1, 1)

        tip = await tip_page(session, "hitta-gemensamma-mal-och-resurser", now)
        assert f"{tip.tip.number}. {tip.tip.title}" == "2. Hitta gemensamma mål och resurser"
        assert len(tip.tip.questions) == 3
        assert [e.slug for e in tip.examples] == [
            "ystad-regional-karna",
            "sormland-strukturbild",
            "kramfors-bygdemedel",
        ]
        assert [e.title for e in tip.events] == ["Levande landsbygder: planering som håller ihop"]

        process = await process_page(session, "platsutveckling-i-sex-steg", now)
        assert [len(p.steps) for p in process.phases] == [3, 3]
        assert next(s.step.title for p in process.phases for s in p.steps) == "Förankring"
        assert process.phases[-1].steps[-1].number == 6
        assert process.phases[0].checkpoint
        assert not process.phases[1].checkpoint
        assert next(e.title for e in process.events).startswith("Platsutveckling i sex steg")

        page = await challenge_page(session, "samhallsplanering", now)
        assert [t.slug for t in page.tips] == ["hitta-gemensamma-mal-och-resurser"]
        assert [p.slug for p in page.processes] == ["platsutveckling-i-sex-steg"]
        assert "sormland-strukturbild" in {e.slug for e in page.examples}
        # Sessions about its examples (the planning café) and its process (the workshop).
        assert len(page.events) == 3

        sormland = await get_example(session, "sormland-strukturbild")
        assert sormland is not None
        assert sormland.region == "Södermanlands län"
        assert "strukturbilden" in sormland.body
        assert sormland.contact_name
        assert sormland.contact_phone.startswith("016-")


async def test_an_event_links_a_method_once_and_a_copy_keeps_it(services: Services) -> None:
    await load_demo(services, only_if_empty=False)
    async with services.transaction() as session:
        workshop = (
            await session.scalars(select(Event).where(Event.title.startswith("Platsutveckling")))
        ).one()
        cafe = (await session.scalars(select(Event).where(Event.id != workshop.id))).first()
        assert cafe is not None
        [linked] = await methods_for_event(session, workshop.id)
        assert linked.title == "Platsutveckling i sex steg"
        assert linked.note
        with pytest.raises(InvalidTip) as refused:
            await link_method(
                session, event_id=workshop.id, process_slug="platsutveckling-i-sex-steg"
            )
        assert set(refused.value.fields) == {"method"}
        await link_method(
            session, event_id=workshop.id, tip_slug="borja-i-behoven", note="Läs före."
        )
        copy_id = cafe.id
        before = [m.slug for m in await methods_for_event(session, copy_id)]
        await copy_links(session, from_event_id=workshop.id, to_event_id=copy_id)
        after = [m.slug for m in await methods_for_event(session, copy_id)]
        assert after == [*before, "platsutveckling-i-sex-steg", "borja-i-behoven"]
