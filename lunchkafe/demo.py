"""Demo data from the material Lunchkafé grew out of, loaded into an empty database.

Dates are placed in the weeks after loading, so a fresh `make run` always shows
upcoming cafés.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from events.models import Event, EventKind
from events.schedule import EventDraft, create_event, create_series
from events.working_days import first_working_day
from foundation.errors import N_, DomainError
from foundation.services import Services
from foundation.timestamps import utcnow
from guide.catalogue import link_example
from guide.methods import link_method, link_step_session
from guide.models import Challenge
from lunchkafe.demo_guide import PLACE_DEVELOPMENT, load_guide

CAFES = [
    (
        "Levande landsbygder: lokala utvecklingsmodeller",
        "Hur kan kommuner stödja bygder som vill utvecklas? Varberg och Kramfors berättar "
        "om sina modeller för lokal utvecklingspeng och bygdemedel.",
        [
            (
                "varberg-lokal-utvecklingspeng",
                "Varbergs modell med snabba beslut och lite administration.",
            ),
            ("kramfors-bygdemedel", "Bygderna prioriterar själva."),
        ],
    ),
    (
        "Levande landsbygder: lokala processledare",
        "Västra Götalandsregionen berättar om hur de coachar lokala processledare.",
        [("vgr-lokala-processledare", "Metodstöd och nätverk för lokala initiativ.")],
    ),
    (
        "Levande landsbygder: fler röster i strategin",
        "Hur får man med fler i arbetet med regionala utvecklingsstrategier?",
        [("jamtland-fler-roster", "Dialog i hela länet, digitalt och på plats.")],
    ),
    (
        "Levande landsbygder: planering som håller ihop",
        "Strukturbilder och gemensamma målbilder som verktyg för landsbygdens utveckling.",
        [
            ("sormland-strukturbild", "En gemensam bild att planera utifrån."),
            ("ystad-regional-karna", "Flera kommuner med en målbild."),
        ],
    ),
]

WORKSHOP_DESCRIPTION = (
    "En workshop i sex steg för dig som leder platsutveckling: förankring, kartläggning, "
    "analys av nuläget, gemensam målbild, handlingsplan och långsiktig organisering."
    "\n\nVi arbetar i mindre grupper med exempel från kommuner och regioner. Ta gärna med "
    "en kollega."
)


class DemoAlreadyLoaded(DomainError):
    code = "demo_present"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Utvecklingsguiden har redan innehåll (demodata laddas bara i en tom "
                "databas). Ingenting ändrades."
            )
        )


async def load_demo(services: Services, *, only_if_empty: bool) -> bool:
    """Load the demo; with `only_if_empty`, do nothing (False) if any event or guide
    material exists.

    Raises DemoAlreadyLoaded when the guide holds anything already (the demo's own, or real
    material): loading the demo twice would collide on its names, and demo material has no
    place among real material.
    """
    tz = ZoneInfo(services.settings.timezone)
    domain = services.settings.site_domain
    async with services.transaction() as session:
        has_events = bool(await session.scalar(select(func.count()).select_from(Event)))
        has_guide = bool(await session.scalar(select(func.count()).select_from(Challenge)))
        if only_if_empty and (has_events or has_guide):
            return False
        if has_guide:
            raise DemoAlreadyLoaded()
        await load_guide(session)

        series = await create_series(
            session,
            slug="levande-landsbygder",
            title="Digitala lunchkaféer om levande landsbygder",
            summary="Fyra digitala lunchkaféer om hur kommuner och regioner kan stödja "
            "levande landsbygder.",
            description="Lunchkaféerna arrangeras tillsammans med Landsbygdsnätverket. Varje "
            "tillfälle är en timme: en kort presentation av ett exempel ur "
            "Utvecklingsguiden och sedan samtal.\n\nTa med din lunch!",
            host="Landsbygdsnätverket",
        )
        cafe_days, workshop_day = demo_days(utcnow().astimezone(tz).date())
        for week, (title, summary, links) in enumerate(CAFES):
            day = cafe_days[week]
            starts = datetime.combine(day, time(12, 0), tz)
            event = await create_event(
                session,
                EventDraft(
                    title=title,
                    summary=summary,
                    description="Digitalt lunchkafé, en timme. Länken till mötet skickas till "
                    "dig som har en bekräftad plats.",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    capacity=[40, 30, 40, 8][week],
                    series_slug=series.slug,
                    join_url=f"https://meet.example.se/lunchkafe-{week + 1}",
                    kind=EventKind.CAFE,
                    publish=True,
                ),
                site_domain=domain,
            )
            for example_slug, note in links:
                await link_example(session, event_id=event.id, example_slug=example_slug, note=note)
            if week == 3:
                await link_method(
                    session,
                    event_id=event.id,
                    tip_slug="hitta-gemensamma-mal-och-resurser",
                    note="Samma mål över kommungränserna.",
                )

        starts = datetime.combine(workshop_day, time(9, 0), tz)
        workshop = await create_event(
            session,
            EventDraft(
                title="Platsutveckling i sex steg – från förankring till långsiktig organisering",
                summary="En halvdagsworkshop om att leda platsutveckling, steg för steg.",
                description=WORKSHOP_DESCRIPTION,
                starts_at=starts,
                ends_at=starts + timedelta(hours=3, minutes=30),
                capacity=25,
                venue="Tillväxthuset, Stockholm",
                kind=EventKind.WORKSHOP,
                publish=True,
            ),
            site_domain=domain,
        )
        await link_example(
            session,
            event_id=workshop.id,
            example_slug="vgr-lokala-processledare",
            note="Hur lokala processledare bär arbetet långsiktigt.",
        )
        await link_example(
            session,
            event_id=workshop.id,
            example_slug="jamtland-fler-roster",
            note="Förankring genom dialog.",
        )
        await link_method(
            session,
            event_id=workshop.id,
            process_slug=PLACE_DEVELOPMENT.slug,
            note="Workshoppen följer metodens sex steg.",
        )
        # The process page offers the workshop under its first step, where the work begins.
        await link_step_session(
            session, process_slug=PLACE_DEVELOPMENT.slug, step_number=1, event_id=workshop.id
        )
    return True


def demo_days(today: date) -> tuple[list[date], date]:
    """The four cafés' days and the workshop's for a demo loaded on `today`: cafés on
    Wednesdays every other week from the second Wednesday after today, the workshop on the
    Thursday after the second café; a day off (events.working_days) moves a café a week on
    and the workshop to the next working day, so nobody is invited on julafton."""
    first = today + timedelta(days=(2 - today.weekday()) % 7 or 7) + timedelta(weeks=1)
    cafes: list[date] = []
    for _ in CAFES:
        candidate = cafes[-1] + timedelta(weeks=2) if cafes else first
        cafes.append(first_working_day(candidate, step=timedelta(weeks=1)))
    return cafes, first_working_day(cafes[1] + timedelta(days=1))
