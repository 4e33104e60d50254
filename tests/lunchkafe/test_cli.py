"""The real `lunchkafe` command, run as a subprocess against SQLite and PostgreSQL files."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lunchkafe.services import Services
from registrations import booking
from tests.conftest import POSTGRES_ADMIN_URL, SECRET, make_settings, require_service
from tests.factories import person

LUNCHKAFE = Path(sys.executable).with_name("lunchkafe")
CLI_DATABASE = "lunchkafe_cli_test"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def lunchkafe(*args: str, env: dict[str, str]) -> Run:
    process = await asyncio.create_subprocess_exec(
        str(LUNCHKAFE),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def cli_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "SECRET_KEY", "VAR_DIR", "TIMEZONE", "REDIS_URL", "SMTP_URL")
    }
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET, VAR_DIR=str(var_dir), **extra)
    return env


def ok(run: Run) -> str:
    assert run.code == 0, run.err
    return run.out


def refused(run: Run, *words: str) -> None:
    """A clear message on stderr, no traceback, a non-zero exit."""
    assert run.code != 0, run.out
    assert run.err.startswith("lunchkafe:"), run.err
    assert "Traceback" not in run.err, run.err
    for word in words:
        assert word in run.err, (word, run.err)


async def rows(services: Services, sql: str, **params: Any) -> list[Any]:
    async with services.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def book(services: Services, event_id: int, n: int) -> booking.BookingResult:
    async with services.transaction() as session:
        return await booking.book(session, event_id=event_id, attendee=person(n), secret_key=SECRET)


def as_utc(value: Any) -> datetime:
    """A stored naive-UTC timestamp (SQLite hands back a string)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


async def test_organiser_workflow_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = cli_env(f"sqlite:///{db}", tmp_path / "var")
    services = Services.build(make_settings(f"sqlite+aiosqlite:///{db}", tmp_path / "var"))
    try:
        assert "up to date" in ok(await lunchkafe("migrate", env=env))
        assert "up to date" in ok(await lunchkafe("migrate", env=env))  # idempotent

        # Local time without an offset is Europe/Stockholm: summer +02:00, winter +01:00.
        summer = int(
            ok(
                await lunchkafe(
                    "events",
                    "add",
                    "--title",
                    "Sommarkafé",
                    "--starts",
                    "2026-07-01T12:00",
                    "--duration",
                    "1h30m",
                    "--capacity",
                    "10",
                    env=env,
                )
            ).strip()
        )
        winter = int(
            ok(
                await lunchkafe(
                    "events",
                    "add",
                    "--title",
                    "Vinterkafé",
                    "--starts",
                    "2026-01-15T12:00",
                    "--ends",
                    "2026-01-15T13:00",
                    "--capacity",
                    "10",
                    env=env,
                )
            ).strip()
        )
        stored = {
            r.id: r
            for r in await rows(services, "SELECT id, starts_at, ends_at, status FROM events")
        }
        assert as_utc(stored[summer].starts_at) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
        assert as_utc(stored[summer].ends_at) == datetime(2026, 7, 1, 11, 30, tzinfo=UTC)
        assert as_utc(stored[winter].starts_at) == datetime(2026, 1, 15, 11, 0, tzinfo=UTC)
        assert as_utc(stored[winter].ends_at) == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        assert stored[summer].status == "draft"  # no --publish: a draft
        assert "published" in ok(await lunchkafe("events", "publish", str(winter), env=env))
        listed = ok(await lunchkafe("events", "list", env=env))
        assert "Sommarkafé" in listed
        assert "Vinterkafé" in listed
        winter_line = next(line for line in listed.splitlines() if "Vinterkafé" in line)
        assert "published" in winter_line
        assert "0/10" in winter_line

        # An upcoming published café with one seat: one confirmed, one waitlisted.
        day = date.today() + timedelta(days=30)
        cafe = int(
            ok(
                await lunchkafe(
                    "events",
                    "add",
                    "--title",
                    "Kommande kafé",
                    "--starts",
                    f"{day}T12:00",
                    "--duration",
                    "60",
                    "--capacity",
                    "1",
                    "--join-url",
                    "https://meet.example.se/rum",
                    "--publish",
                    env=env,
                )
            ).strip()
        )
        confirmed = await book(services, cafe, 1)
        waiting = await book(services, cafe, 2)
        assert confirmed.confirmed
        assert waiting.waitlist_position == 1
        await services.close()  # release the SQLite file between commands

        # Moving the time: the sequence grows and the confirmed attendee gets an update.
        (before,) = await rows(services, "SELECT sequence FROM events WHERE id = :id", id=cafe)
        moved = ok(
            await lunchkafe(
                "events",
                "update",
                str(cafe),
                "--starts",
                f"{day}T13:00",
                "--venue",
                "Stadshuset",
                env=env,
            )
        )
        assert "updated" in moved
        (after,) = await rows(
            services,
            "SELECT sequence, starts_at, ends_at, venue FROM events WHERE id = :id",
            id=cafe,
        )
        assert after.sequence == before.sequence + 1
        assert as_utc(after.ends_at) - as_utc(after.starts_at) == timedelta(hours=1)
        assert after.venue == "Stadshuset"
        changed = await rows(
            services,
            "SELECT recipient FROM outbox_messages WHERE kind = 'event_changed' AND event_id = :id",
            id=cafe,
        )
        assert [r.recipient for r in changed] == ["person1@kommun.example.se"]

        # Raising the capacity promotes the waitlisted attendee at once.
        ok(await lunchkafe("events", "update", str(cafe), "--capacity", "2", env=env))
        statuses = dict(
            await rows(
                services,
                "SELECT email, status FROM registrations WHERE event_id = :id",
                id=cafe,
            )
        )
        assert statuses == {
            "person1@kommun.example.se": "confirmed",
            "person2@kommun.example.se": "confirmed",
        }
        promoted = await rows(
            services,
            "SELECT recipient FROM outbox_messages WHERE kind = 'promoted' AND event_id = :id",
            id=cafe,
        )
        assert [r.recipient for r in promoted] == ["person2@kommun.example.se"]
        assert "2/2" in ok(await lunchkafe("events", "list", env=env))

        # Cancelling tells everyone booked.
        assert "cancelled" in ok(await lunchkafe("events", "cancel", str(cafe), env=env))
        cancelled = await rows(
            services,
            "SELECT recipient FROM outbox_messages WHERE kind = 'event_cancelled' "
            "AND event_id = :id ORDER BY recipient",
            id=cafe,
        )
        assert [r.recipient for r in cancelled] == [
            "person1@kommun.example.se",
            "person2@kommun.example.se",
        ]
        (status,) = await rows(services, "SELECT status FROM events WHERE id = :id", id=cafe)
        assert status.status == "cancelled"
    finally:
        await services.close()


async def test_seed_demo_if_empty_loads_once(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = cli_env(f"sqlite:///{db}", tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    assert "loaded" in ok(await lunchkafe("seed-demo", "--if-empty", env=env))
    assert "left as it is" in ok(await lunchkafe("seed-demo", "--if-empty", env=env))
    listed = ok(await lunchkafe("events", "list", env=env))
    assert "Levande landsbygder" in listed
    assert len([line for line in listed.splitlines()[1:] if line.strip()]) == 5


async def test_bad_input_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    var = tmp_path / "var"
    env = cli_env(f"sqlite:///{db}", var)
    ok(await lunchkafe("migrate", env=env))
    add = ["events", "add", "--title", "Kafé", "--capacity", "5"]

    refused(
        await lunchkafe(*add, "--starts", "nästa onsdag", "--duration", "60", env=env),
        "nästa onsdag",
        "ISO 8601",
    )
    refused(
        await lunchkafe(
            *add, "--starts", "2027-03-03T12:00", "--ends", "2027-03-03T11:00", env=env
        ),
        "ends_at",
    )
    refused(
        await lunchkafe(
            "events",
            "add",
            "--title",
            "Kafé",
            "--capacity",
            "0",
            "--starts",
            "2027-03-03T12:00",
            "--duration",
            "60",
            env=env,
        ),
        "capacity",
    )
    refused(
        await lunchkafe(
            *add,
            "--starts",
            "2027-03-03T12:00",
            "--duration",
            "60",
            "--series",
            "finns-inte",
            env=env,
        ),
        "finns-inte",
    )
    refused(await lunchkafe("events", "update", "4711", "--capacity", "9", env=env), "4711")
    refused(await lunchkafe("events", "cancel", "4711", env=env), "4711")
    refused(
        await lunchkafe("events", "list", env=cli_env("mysql://x@localhost/db", var)),
        "DATABASE_URL",
    )
    no_secret = cli_env("postgres://postgres@127.0.0.1:5432/whatever", var)
    del no_secret["SECRET_KEY"]
    refused(await lunchkafe("events", "list", env=no_secret), "SECRET_KEY")
    # A well-formed URL to a database that is not there.
    refused(
        await lunchkafe("events", "list", env=cli_env("postgres://postgres@127.0.0.1:1/x", var)),
        "database",
    )

    services = Services.build(make_settings(f"sqlite+aiosqlite:///{db}", var))
    try:
        assert await rows(services, "SELECT id FROM events") == []
        assert await rows(services, "SELECT id FROM series") == []
    finally:
        await services.close()


@pytest.fixture
async def cli_postgres() -> AsyncIterator[str]:
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{CLI_DATABASE}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{CLI_DATABASE}"'))
    except (OSError, Exception) as exc:  # asyncpg raises several kinds on no server
        require_service("PostgreSQL", str(exc)[:200])
    finally:
        await admin.dispose()
    yield f"postgres://postgres@127.0.0.1:5432/{CLI_DATABASE}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{CLI_DATABASE}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def test_postgres_url_from_a_hosting_platform_works(
    cli_postgres: str, tmp_path: Path
) -> None:
    env = cli_env(cli_postgres, tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    event_id = int(
        ok(
            await lunchkafe(
                "events",
                "add",
                "--title",
                "Postgreskafé",
                "--starts",
                "2026-07-01T12:00",
                "--duration",
                "60",
                "--capacity",
                "3",
                "--publish",
                env=env,
            )
        ).strip()
    )
    assert "Postgreskafé" in ok(await lunchkafe("events", "list", env=env))
    services = Services.build(
        make_settings(cli_postgres.replace("postgres://", "postgresql+asyncpg://"), tmp_path)
    )
    try:
        ((starts, status),) = await rows(
            services, "SELECT starts_at, status FROM events WHERE id = :id", id=event_id
        )
        assert as_utc(starts) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
        assert status == "published"
    finally:
        await services.close()
