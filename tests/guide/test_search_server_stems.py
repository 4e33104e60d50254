"""On PostgreSQL a query's words are stemmed by the server, as the index's texts are (its
`swedish` configuration), not by snowballstemmer: a server whose stemmer reads a word
otherwise than snowballstemmer still finds what it indexed. Here the test database's
`swedish` configuration stems with English Snowball for one rolled-back transaction
("hobby" becomes "hobbi", which snowballstemmer's Swedish "hobby" is no prefix of). All the
query's words go to the server in one statement."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from foundation.services import Services
from guide import finding
from guide.editing import TipInput, save_tip
from tests.statements import statements


async def test_query_words_are_stemmed_by_the_server(services: Services) -> None:
    if services.settings.is_sqlite:
        pytest.skip("SQLite's index holds snowballstemmer's stems; its queries use them too")
    async with services.sessionmaker() as session:
        try:
            await session.execute(
                text(
                    "ALTER TEXT SEARCH CONFIGURATION swedish"
                    " ALTER MAPPING FOR asciiword, word WITH english_stem"
                )
            )
            await save_tip(
                session,
                TipInput(
                    slug="hobby",
                    number=1,
                    title="En hobby blir ett arbete",
                    text="Börja med vad byarna redan gör på fritiden.",
                ),
            )
            await session.flush()
            assert await session.scalar(
                text("SELECT document::text FROM guide_search WHERE kind = 'tip'")
            ) == await session.scalar(
                text(
                    "SELECT (setweight(to_tsvector('swedish', title), 'A')"
                    " || setweight(to_tsvector('swedish', body), 'B'))::text"
                    " FROM guide_search WHERE kind = 'tip'"
                )
            )
            with statements(services) as sent:
                hits = await finding.find(session, "hobby arbete")
            assert [hit.item.slug for hit in hits] == ["hobby"]
            assert len([s for s in sent if "to_tsvector" in s]) == 1
            assert await finding.find(session, '"hobby ett arbete" -fritiden') == []
        finally:
            await session.rollback()
