"""Search finds what a person types however their keyboard spelled it, and by the names of the
challenges an item is filed under, on both databases (review of issue 12's search)."""

from __future__ import annotations

import asyncio
import unicodedata

import httpx
from sqlalchemy import text

from foundation.services import Services
from guide import finding
from guide.editing import (
    ChallengeInput,
    ExampleInput,
    delete_challenge,
    delete_example,
    save_challenge,
    save_example,
)


def slugs(hits: list[finding.Hit]) -> list[str]:
    return [hit.item.slug for hit in hits]


async def test_a_decomposed_or_full_width_query_finds_what_the_composed_one_does(
    services: Services,
) -> None:
    # macOS and iOS often send å as a + a combining ring (NFD); a Japanese or Chinese
    # keyboard may give full-width letters.
    async with services.transaction() as session:
        await save_example(
            session,
            ExampleInput(
                slug="ystad",
                title="Får på bete i Ystad",
                summary="Fåren håller landskapet öppet.",
                organisation="Ystads kommun",
                organisation_type="kommun",
                contact_name="Åsa Öberg",
                contact_email="asa@kommun.example.se",
            ),
        )
    async with services.transaction() as session:
        assert slugs(await finding.find(session, "får")) == ["ystad"]
        (hit,) = await finding.find(session, unicodedata.normalize("NFD", "får"))
        assert "<mark>" in str(hit.snippet)
        assert slugs(await finding.find(session, "ＹＳＴＡＤ")) == ["ystad"]
        assert slugs(await finding.find(session, unicodedata.normalize("NFD", "far"))) == []


async def test_an_item_is_found_by_the_name_of_its_challenge(services: Services) -> None:
    async with services.transaction() as session:
        await save_challenge(session, ChallengeInput("forenkling", "Förenkling", ""))
        await save_example(
            session,
            ExampleInput(
                slug="en-vag-in",
                title="En väg in för företag",
                summary="Ett nummer och en handläggare för alla tillstånd.",
                organisation="Exempelkommun",
                organisation_type="kommun",
                contact_name="Åsa Öberg",
                contact_email="asa@kommun.example.se",
                challenges=["forenkling"],
            ),
        )
    async with services.transaction() as session:
        assert slugs(await finding.find(session, "förenkling")) == ["en-vag-in"]
        # Renaming the challenge re-indexes what is filed under it.
        await save_challenge(session, ChallengeInput("forenkling", "Enklare regler", ""))
    async with services.transaction() as session:
        assert slugs(await finding.find(session, "förenkling")) == []
        assert slugs(await finding.find(session, "enklare regler")) == ["en-vag-in"]


async def test_deleting_through_the_editor_takes_the_item_and_its_challenge_out_of_the_index(
    services: Services,
) -> None:
    # delete_example and delete_challenge are bulk DELETEs, which no ORM flush event sees.
    async with services.transaction() as session:
        await save_challenge(session, ChallengeInput("forenkling", "Förenkling", ""))
        for slug in ("en-vag-in", "lamm"):
            await save_example(
                session,
                ExampleInput(
                    slug=slug,
                    title=f"Lammen i {slug}",
                    summary="Lammen betar.",
                    organisation="Exempelkommun",
                    organisation_type="kommun",
                    contact_name="Åsa Öberg",
                    contact_email="asa@kommun.example.se",
                    challenges=["forenkling"],
                ),
            )
    async with services.transaction() as session:
        assert await delete_example(session, "lamm")
        assert await delete_challenge(session, "forenkling")
    async with services.transaction() as session:
        indexed = (await session.execute(text("SELECT count(*) FROM guide_search"))).scalar()
        assert indexed == 1
        assert slugs(await finding.find(session, "förenkling")) == []
        assert slugs(await finding.find(session, "lammen")) == ["en-vag-in"]


async def test_searching_is_answered_while_a_booking_holds_the_writer(
    services: Services, client: httpx.AsyncClient
) -> None:
    # Search is a public read, as the guide's other pages are: it must not queue behind (or
    # take) SQLite's write lock, nor a read-write transaction on PostgreSQL.
    async with services.transaction() as session:
        await save_challenge(session, ChallengeInput("forenkling", "Förenkling", ""))
    async with services.transaction() as session:
        # The write lock is held now, as by a booking on its way to commit.
        await save_challenge(session, ChallengeInput("forenkling", "Förenkling", "Ändrad"))
        answers = [
            await asyncio.wait_for(client.get(path), timeout=10)
            for path in ("/guide?q=förenkling", "/api/v1/guide/examples?q=förenkling")
        ]
    assert [answer.status_code for answer in answers] == [200, 200]
