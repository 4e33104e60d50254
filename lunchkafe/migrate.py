"""Running Alembic migrations on the app's own engine (the CLI, the release phase, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from foundation.errors import N_, DomainError


class MigrationRefused(DomainError):
    """Alembic could not run: most often the database is at a revision this release does not
    know (a newer release migrated it). `reason` is Alembic's own sentence, which names
    revisions, never data."""

    code = "migration_refused"
    status = 500

    def __init__(self, reason: str) -> None:
        super().__init__(N_("Databasen kunde inte migreras: %(reason)s"), reason=reason)


def alembic_config() -> Config:
    """Alembic's configuration, built here rather than read from alembic.ini (which only the
    bare `alembic` command reads), so an installed wheel migrates from any folder."""
    config = Config()
    # Option values are interpolated by configparser, so a "%" in the path is doubled.
    config.set_main_option("script_location", str(migrations.DIRECTORY).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Raises MigrationRefused when Alembic cannot."""
    await _run(engine, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def _run(engine: AsyncEngine, action: object) -> None:
    assert callable(action)

    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        action(cfg)

    try:
        async with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying it and dropping the original (Alembic's batch
                # mode), and with foreign keys on, that drop fires every ON DELETE rule that
                # points at it: migration 0007 once cut every event loose from its series. The
                # pragma is a no-op inside a transaction, so it goes before ours begins.
                await connection.run_sync(_sqlite_pragma, "PRAGMA foreign_keys=OFF")
            try:
                async with connection.begin():
                    await connection.run_sync(run)
                    if sqlite:
                        await connection.run_sync(_no_dangling_references)
            finally:
                if sqlite:
                    await connection.run_sync(_sqlite_pragma, "PRAGMA foreign_keys=ON")
    except CommandError as exc:
        raise MigrationRefused(str(exc)) from None


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    # On the driver's connection: through SQLAlchemy the statement would begin a transaction.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(pragma)
    finally:
        cursor.close()


def _no_dangling_references(connection: Connection) -> None:
    """With the checks off, a migration could leave a row pointing at nothing; refuse that
    (rolling the whole migration back) rather than let the app meet it later."""
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        tables = sorted({str(row[0]) for row in dangling})
        raise CommandError(f"rows refer to missing rows in: {', '.join(tables)}")
