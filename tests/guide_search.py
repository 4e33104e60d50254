"""The small guide the search tests seed (three examples and a tip) and how they read hits:
shared by tests/guide/test_search.py and tests/guide/test_search_syntax.py."""

from __future__ import annotations

from datetime import date

from foundation.services import Services
from guide import finding
from guide.editing import ExampleInput, TipInput, save_example, save_tip


def example(slug: str, title: str, summary: str, **extra: object) -> ExampleInput:
    fields: dict[str, object] = {
        "organisation": "Exempelkommun",
        "organisation_type": "kommun",
        "contact_name": "Åsa Öberg",
        "contact_email": "asa@kommun.example.se",
        **extra,
    }
    return ExampleInput(slug=slug, title=title, summary=summary, **fields)  # type: ignore[arg-type]


async def seed(services: Services) -> None:
    """Three examples and a tip, each word chosen for what a search should find in it."""
    async with services.transaction() as session:
        await save_example(
            session,
            example(
                "sormland",
                "Strukturbild för Sörmland",
                "Strukturbilden visar hur <orterna> hänger ihop.",
                organisation_type="region",
                region="Södermanlands län",
                published_on=date(2025, 1, 1),
                updated_on=date(2025, 1, 1),
            ),
        )
        await save_example(
            session,
            example(
                "ystad",
                "Får på bete i Ystad",
                "Fåren betar längs kusten och håller landskapet öppet.",
                updated_on=date(2026, 5, 1),
                published_on=date(2026, 5, 1),
            ),
        )
        await save_example(
            session,
            example(
                "inlandet",
                "Landsbygdsutveckling i inlandet",
                "Byarna driver landsbygdsutvecklingen själva, med en strukturbild som grund.",
                updated_on=date(2026, 6, 1),
                published_on=date(2026, 6, 1),
            ),
        )
        await save_tip(
            session,
            TipInput(
                slug="mal",
                number=2,
                title="Hitta gemensamma mål och resurser",
                text="Börja med vad landsbygden redan har.",
            ),
        )


def slugs(hits: list[finding.Hit]) -> list[str]:
    return [hit.item.slug for hit in hits]
