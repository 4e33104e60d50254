"""Alembic migrations: empty to head matches the models, and head back to base leaves nothing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from foundation.database import Base
from foundation.services import Services
from lunchkafe.migrate import downgrade, upgrade
from migrations.models import Event  # noqa: F401  (registers every table)
from tests.conftest import make_settings, require_service
from tests.databases import POSTGRES_ADMIN_URL, drop_database, scratch_database

APP_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Services on a brand-new, empty database of each kind."""
    database = f"lunchkafe_migrations_{os.getpid()}"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        try:
            url = await scratch_database(POSTGRES_ADMIN_URL, database)
        except (OSError, Exception) as exc:  # asyncpg raises several kinds on no server
            require_service("PostgreSQL", str(exc)[:200])
    built = Services.build(make_settings(url, tmp_path / "var"))
    yield built
    await built.close()
    if request.param == "postgresql":
        await drop_database(POSTGRES_ADMIN_URL, database)


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _differences(conn: Connection) -> list[Any]:
    # The guide's search index is raw DDL of its own on each database (an FTS5 table and
    # its shadow tables on SQLite), outside the models (guide/search.py).
    context = MigrationContext.configure(
        conn,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: (
                not (kind == "table" and str(name).startswith("guide_search"))
            ),
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_matches_models_and_downgrade_removes_everything(fresh: Services) -> None:
    async with fresh.engine.connect() as conn:
        assert await conn.run_sync(_table_names) == set()

    await upgrade(fresh.engine)
    async with fresh.engine.connect() as conn:
        tables = await conn.run_sync(_table_names)
        assert tables >= APP_TABLES
        assert await conn.run_sync(_differences) == []

    await downgrade(fresh.engine)
    async with fresh.engine.connect() as conn:
        remaining = await conn.run_sync(_table_names)
    assert remaining & APP_TABLES == set()
    assert remaining <= {"alembic_version"}

    # And up again: a downgrade leaves nothing behind that blocks the next upgrade.
    await upgrade(fresh.engine)
    async with fresh.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_registrations_made_before_0006_keep_swedish(fresh: Services) -> None:
    """0006 adds each registration's language: rows from before were all mailed in Swedish,
    so they say Swedish; going back to 0005 drops the column, and forward again restores it."""
    await upgrade(fresh.engine, "0005")
    async with fresh.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO events (id, kind, title, summary, description, starts_at, ends_at,"
                " capacity, status, uid, sequence, waitlist_counter, created_at, updated_at)"
                " VALUES (1, 'cafe', 'Kafé', '', '', :at, :at, 10, 'published', 'u@x', 0, 0,"
                " :at, :at)"
            ),
            {"at": datetime(2027, 1, 13, 11, 0)},
        )
        await conn.execute(
            text(
                "INSERT INTO registrations (id, event_id, name, email, email_normalised,"
                " organisation, municipality, consent_at, status, sequence_bump, token_nonce,"
                " manage_token_hash, created_at, updated_at)"
                " VALUES (1, 1, 'Maria Malm', 'm@x.se', 'm@x.se', '', '', :at, 'confirmed', 0,"
                " 'n', 'h', :at, :at)"
            ),
            {"at": datetime(2027, 1, 1, 11, 0)},
        )

    await upgrade(fresh.engine)
    async with fresh.engine.connect() as conn:
        assert (await conn.execute(text("SELECT language FROM registrations"))).scalar() == "sv"
        assert await conn.run_sync(_differences) == []

    await downgrade(fresh.engine, "0005")
    async with fresh.engine.connect() as conn:
        columns = await conn.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("registrations")}
        )
        assert "language" not in columns
        assert (await conn.execute(text("SELECT name FROM registrations"))).scalar() == (
            "Maria Malm"
        )
    await upgrade(fresh.engine)


async def test_examples_and_challenges_made_before_0010_are_kept(fresh: Services) -> None:
    """0010 makes the guide a catalogue: existing examples keep every value and their
    challenges, get empty lists and today's dates, and the organisation type their name
    says ("… kommun", "Region …"; unknown otherwise, and a wrong one is refused); going back
    to 0009 keeps the rows."""
    await upgrade(fresh.engine, "0009")
    async with fresh.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO challenges (id, slug, name, description) VALUES (1, 'b', 'B', '')")
        )
        await conn.execute(
            text(
                "INSERT INTO guide_examples (id, slug, title, organisation, summary, body,"
                " contact_name, contact_email) VALUES"
                " (1, 'ystad', 'Y', 'Ystads kommun', 'Kort', 'Lång', 'Erik', 'e@example.se'),"
                " (2, 'sormland', 'S', 'Region Sörmland', '', '', '', ''),"
                " (3, 'verket', 'V', 'Tillväxtverket', '', '', '', '')"
            )
        )
        await conn.execute(text("INSERT INTO guide_example_challenges VALUES (1, 1)"))
        await conn.execute(
            text(
                "INSERT INTO events (id, kind, title, summary, description, starts_at, ends_at,"
                " capacity, status, uid, sequence, waitlist_counter, created_at, updated_at)"
                " VALUES (1, 'cafe', 'Kafé', '', '', :at, :at, 10, 'published', 'u@x', 0, 0,"
                " :at, :at)"
            ),
            {"at": datetime(2027, 1, 13, 11, 0)},
        )
        await conn.execute(
            text(
                "INSERT INTO event_guide_links (id, event_id, example_id, position, note)"
                " VALUES (1, 1, 2, 0, 'Varför')"
            )
        )

    async def linked(conn: AsyncConnection) -> list[tuple[Any, ...]]:
        """Each example's challenges and events: what copying a table on SQLite once lost."""
        challenged = await conn.execute(text("SELECT * FROM guide_example_challenges"))
        discussed = await conn.execute(text("SELECT event_id, example_id FROM event_guide_links"))
        return [*map(tuple, challenged.all()), *map(tuple, discussed.all())]

    await upgrade(fresh.engine)
    async with fresh.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT e.slug, e.organisation_type, e.summary, e.contact_email, e.region,"
                    " c.position FROM guide_examples e"
                    " JOIN guide_example_challenges ON example_id = e.id"
                    " JOIN challenges c ON c.id = challenge_id"
                )
            )
        ).all()
        assert [tuple(r) for r in rows] == [("ystad", "kommun", "Kort", "e@example.se", "", 0)]
        types = (
            await conn.execute(text("SELECT organisation_type FROM guide_examples ORDER BY id"))
        ).scalars()
        assert list(types) == ["kommun", "region", None]
        assert await linked(conn) == [(1, 1), (1, 2)]
    with pytest.raises(IntegrityError):
        async with fresh.engine.begin() as conn:
            await conn.execute(text("UPDATE guide_examples SET organisation_type = 'bolag'"))

    await downgrade(fresh.engine, "0009")
    async with fresh.engine.connect() as conn:
        kept = (await conn.execute(text("SELECT slug FROM guide_examples ORDER BY id"))).scalars()
        assert list(kept) == ["ystad", "sormland", "verket"]
        assert await linked(conn) == [(1, 1), (1, 2)]
    await upgrade(fresh.engine)


async def test_events_keep_their_series_through_every_migration(fresh: Services) -> None:
    """On SQLite a migration that copies `series` (0007 does) dropped the original with
    foreign keys on, and ON DELETE SET NULL cut every event loose from its series."""
    await upgrade(fresh.engine, "0001")
    async with fresh.engine.begin() as conn:
        at = datetime(2027, 1, 13, 11, 0)
        await conn.execute(
            text(
                "INSERT INTO series (id, slug, title, summary, description, host, created_at)"
                " VALUES (7, 'vinter', 'Vinterkaféer', '', '', '', :at)"
            ),
            {"at": at},
        )
        await conn.execute(
            text(
                "INSERT INTO events (id, series_id, kind, title, summary, description,"
                " starts_at, ends_at, capacity, status, uid, sequence, waitlist_counter,"
                " created_at, updated_at) VALUES (1, 7, 'cafe', 'Kafé', '', '', :at, :at, 10,"
                " 'published', 'u@x', 0, 0, :at, :at)"
            ),
            {"at": at},
        )

    async def series_of_event() -> Any:
        async with fresh.engine.connect() as conn:
            return (await conn.execute(text("SELECT series_id FROM events"))).scalar()

    await upgrade(fresh.engine)
    assert await series_of_event() == 7
    await downgrade(fresh.engine, "0001")
    assert await series_of_event() == 7
    await upgrade(fresh.engine)
    async with fresh.engine.connect() as conn:  # and the checks are on again afterwards
        with pytest.raises(IntegrityError):
            await conn.execute(text("UPDATE events SET series_id = 99"))


async def test_0009_counts_the_seats_and_the_line_already_stored(fresh: Services) -> None:
    """0009 adds each event's seat counters (the booking hot path trusts them): an event
    booked before it starts with counters equal to its confirmed and waiting registrations."""
    await upgrade(fresh.engine, "0008")
    at = datetime(2027, 1, 1, 11, 0)
    async with fresh.engine.begin() as conn:
        for event_id in (1, 2):
            await conn.execute(
                text(
                    "INSERT INTO events (id, kind, title, summary, description, starts_at,"
                    " ends_at, capacity, status, uid, sequence, waitlist_counter, created_at,"
                    " updated_at) VALUES (:id, 'cafe', 'Kafé', '', '', :at, :at, 2,"
                    " 'published', :uid, 0, 1, :at, :at)"
                ),
                {"id": event_id, "at": at, "uid": f"u{event_id}@x"},
            )
        for n, status in enumerate(["confirmed", "confirmed", "waitlisted", "cancelled"]):
            await conn.execute(
                text(
                    "INSERT INTO registrations (event_id, name, email, email_normalised,"
                    " organisation, municipality, consent_at, status, sequence_bump,"
                    " token_nonce, manage_token_hash, created_at, updated_at, language)"
                    " VALUES (1, 'N', :e, :e, '', '', :at, :status, 0, 'n', :h, :at, :at, 'sv')"
                ),
                {"e": f"p{n}@x.se", "at": at, "status": status, "h": f"h{n}"},
            )
    await upgrade(fresh.engine)
    async with fresh.engine.connect() as conn:
        counters = await conn.execute(
            text("SELECT id, confirmed_count, waitlisted_count FROM events ORDER BY id")
        )
        assert [tuple(row) for row in counters] == [(1, 2, 1), (2, 0, 0)]


async def test_0013_indexes_the_guide_in_swedish_without_stop_words(fresh: Services) -> None:
    """0013 fills the guide's search index from the tables (0011 no longer calls the app's
    code to): PostgreSQL's `swedish` configuration builds the tsvector, and neither database
    holds a stop word; back to 0012 gives the index 0011 made, filled again."""
    from guide import finding
    from guide.editing import ChallengeInput, ExampleInput, save_challenge, save_example

    await upgrade(fresh.engine)
    async with fresh.transaction() as session:
        await save_challenge(session, ChallengeInput("forenkling", "Förenkling", ""))
        await save_example(
            session,
            ExampleInput(
                slug="sormland",
                title="Strukturbild för Sörmland",
                summary="Strukturbilden visar hur orterna hänger ihop.",
                organisation="Region Sörmland",
                organisation_type="region",
                contact_name="Åsa Öberg",
                contact_email="asa@region.example.se",
                challenges=["forenkling"],
            ),
        )
    sqlite = fresh.settings.is_sqlite
    holding = (
        "SELECT count(*) FROM guide_search WHERE guide_search MATCH :word"
        if sqlite
        else "SELECT count(*) FROM guide_search WHERE document @@ CAST(:word AS tsquery)"
    )

    async def held(word: str) -> Any:
        async with fresh.engine.connect() as conn:
            return (await conn.execute(text(holding), {"word": word})).scalar()

    async def configuration() -> Any:
        async with fresh.engine.connect() as conn:
            return (
                await conn.execute(
                    text(
                        "SELECT generation_expression FROM information_schema.columns"
                        " WHERE table_name = 'guide_search' AND column_name = 'document'"
                    )
                )
            ).scalar()

    await downgrade(fresh.engine, "0012")
    assert await held("för") == 1  # 0011's index kept every word
    if not sqlite:
        assert "'simple'" in await configuration()
    async with fresh.engine.begin() as conn:
        await conn.execute(text("DELETE FROM guide_search"))  # as 0011 now leaves it

    await upgrade(fresh.engine)
    assert await held("för") == 0
    assert await held("strukturbild") == 1
    if not sqlite:
        assert "'swedish'" in await configuration()
    async with fresh.transaction() as session:
        found = await finding.find(session, "förenkling strukturbild")
        assert [hit.item.slug for hit in found] == ["sormland"]
