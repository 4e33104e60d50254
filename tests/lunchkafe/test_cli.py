"""The `lunchkafe` command against SQLite and PostgreSQL databases: its entry run in this
process for most commands (`lunchkafe`), the installed script as a process of its own where the
process is the point (`lunchkafe_process`: the first workflow, a reader that goes away)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import AsyncIterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from events.models import Series
from events.schedule import EventDraft, create_event, create_series
from foundation.services import Services
from lunchkafe.cli import _database_reason as database_reason
from lunchkafe.cli import _main as cli_main
from lunchkafe.cli import build_parser, run_command
from lunchkafe.migrate import alembic_config
from registrations import booking
from registrations.messaging import send_reminder_now
from tests.conftest import SECRET, make_settings, require_service
from tests.databases import POSTGRES_ADMIN_URL, drop_database, scratch_database
from tests.factories import SOON, make_event, person

LUNCHKAFE = Path(sys.executable).with_name("lunchkafe")
# Per process: two runs on one server (two checkouts) must not drop each other's database.
CLI_DATABASE = f"lunchkafe_cli_test_{os.getpid()}"
# Next year: events may not start in the past without --allow-past.
YEAR = date.today().year + 1


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def lunchkafe(*args: str, env: dict[str, str], stdin: str = "") -> Run:
    """`lunchkafe ARGS` with this environment and standard input, run in this process: the
    command line's own entry (`_main`, the same parsing, settings, logging set-up, event loop
    and error handling), on a thread of its own, since it runs its own event loop. What a
    separate process would show is kept: the exit code (argparse's too), stdout and stderr
    apart, and a traceback on stderr with code 1 for anything that escapes. Importing the app
    in a new process costs seconds a command on a loaded machine; `lunchkafe_process` runs
    the installed script, for the tests where the process itself is the point."""
    return await asyncio.wait_for(
        asyncio.to_thread(_run_in_this_process, list(args), env, stdin), timeout=60
    )


# The loggers `_main` sets up (foundation.logs.configure_logging, the quiet migrate), put back
# after each command as they were, so the test process's own logging is left alone.
_LOGGERS = ("", "alembic", "uvicorn", "uvicorn.error", "uvicorn.access")
# One command at a time: stdin, stdout and stderr are the process's.
_ONE_AT_A_TIME = threading.Lock()


def _run_in_this_process(argv: list[str], env: dict[str, str], stdin: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with _ONE_AT_A_TIME:
        loggers = [logging.getLogger(name) for name in _LOGGERS]
        kept = [(lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
        showwarning, real_stdin = warnings.showwarning, sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = cli_main(argv, env)
                except SystemExit as exit:
                    if exit.code is None or isinstance(exit.code, int):
                        code = exit.code or 0
                    else:  # as the interpreter does with sys.exit("text")
                        print(exit.code, file=sys.stderr)
                        code = 1
                except Exception:  # what the interpreter would print, and its exit code
                    traceback.print_exc()
                    code = 1
        finally:
            sys.stdin = real_stdin
            logging.captureWarnings(False)
            warnings.showwarning = showwarning
            for lg, (handlers, level, propagate, disabled) in zip(loggers, kept, strict=True):
                lg.handlers[:] = handlers
                lg.setLevel(level)
                lg.propagate, lg.disabled = propagate, disabled
    return Run(code, out.getvalue(), err.getvalue())


async def lunchkafe_process(*args: str, env: dict[str, str], stdin: str = "") -> Run:
    """The installed `lunchkafe` script as a process of its own."""
    process = await asyncio.create_subprocess_exec(
        str(LUNCHKAFE),
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
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


def usage(run: Run, *words: str) -> None:
    """argparse's answer to a value that cannot be right: usage, the option, exit 2."""
    assert run.code == 2, (run.code, run.out, run.err)
    assert "error: argument" in run.err, run.err
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
        assert "up to date" in ok(await lunchkafe_process("migrate", env=env))
        assert "up to date" in ok(await lunchkafe_process("migrate", env=env))  # idempotent

        # Local time without an offset is Europe/Stockholm: summer +02:00, winter +01:00.
        summer = int(
            ok(
                await lunchkafe_process(
                    "events",
                    "add",
                    "--title",
                    "Sommarkafé",
                    "--starts",
                    f"{YEAR}-07-01T12:00",
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
                await lunchkafe_process(
                    "events",
                    "add",
                    "--title",
                    "Vinterkafé",
                    "--starts",
                    f"{YEAR}-01-15T12:00",
                    "--ends",
                    f"{YEAR}-01-15T13:00",
                    "--capacity",
                    "10",
                    "--venue",
                    "Sal 1",  # to be published, it needs a place
                    env=env,
                )
            ).strip()
        )
        stored = {
            r.id: r
            for r in await rows(services, "SELECT id, starts_at, ends_at, status FROM events")
        }
        assert as_utc(stored[summer].starts_at) == datetime(YEAR, 7, 1, 10, 0, tzinfo=UTC)
        assert as_utc(stored[summer].ends_at) == datetime(YEAR, 7, 1, 11, 30, tzinfo=UTC)
        assert as_utc(stored[winter].starts_at) == datetime(YEAR, 1, 15, 11, 0, tzinfo=UTC)
        assert as_utc(stored[winter].ends_at) == datetime(YEAR, 1, 15, 12, 0, tzinfo=UTC)
        assert stored[summer].status == "draft"  # no --publish: a draft
        assert "published" in ok(await lunchkafe_process("events", "publish", str(winter), env=env))
        listed = ok(await lunchkafe_process("events", "list", env=env))
        assert "Sommarkafé" in listed
        assert "Vinterkafé" in listed
        winter_line = next(line for line in listed.splitlines() if "Vinterkafé" in line)
        assert "published" in winter_line
        assert "0/10" in winter_line

        # An upcoming published café with one seat: one confirmed, one waitlisted.
        day = date.today() + timedelta(days=30)
        cafe = int(
            ok(
                await lunchkafe_process(
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
            await lunchkafe_process(
                "events",
                "update",
                str(cafe),
                "--starts",
                f"{day}T13:00",
                "--venue",
                "Stadshuset",
                "--yes",
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
        # The one in line is told too (without an invite: no calendar entry to update).
        assert sorted(r.recipient for r in changed) == [
            "person1@kommun.example.se",
            "person2@kommun.example.se",
        ]

        # Raising the capacity promotes the waitlisted attendee at once.
        ok(
            await lunchkafe_process(
                "events", "update", str(cafe), "--capacity", "2", "--yes", env=env
            )
        )
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
        assert "2/2" in ok(await lunchkafe_process("events", "list", env=env))

        # Cancelling tells everyone booked.
        assert "cancelled" in ok(
            await lunchkafe_process("events", "cancel", str(cafe), "--yes", env=env)
        )
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

    usage(
        await lunchkafe(*add, "--starts", "nästa onsdag", "--duration", "60", env=env),
        "nästa onsdag",
        "ISO 8601",
    )
    refused(
        await lunchkafe(
            *add, "--starts", f"{YEAR}-03-03T12:00", "--ends", f"{YEAR}-03-03T11:00", env=env
        ),
        "--ends",
    )
    usage(
        await lunchkafe(
            "events",
            "add",
            "--title",
            "Kafé",
            "--capacity",
            "0",
            "--starts",
            f"{YEAR}-03-03T12:00",
            "--duration",
            "60",
            env=env,
        ),
        "--capacity",
    )
    refused(
        await lunchkafe(
            *add,
            "--starts",
            f"{YEAR}-03-03T12:00",
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
    """A scratch database's URL as a hosting platform spells it: `postgres://`."""
    try:
        url = await scratch_database(POSTGRES_ADMIN_URL, CLI_DATABASE)
    except (OSError, Exception) as exc:  # asyncpg raises several kinds on no server
        require_service("PostgreSQL", str(exc)[:200])
    assert url.startswith("postgresql+asyncpg://"), url
    yield url.replace("postgresql+asyncpg://", "postgres://", 1)
    await drop_database(POSTGRES_ADMIN_URL, CLI_DATABASE)


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
                f"{YEAR}-07-01T12:00",
                "--duration",
                "60",
                "--capacity",
                "3",
                "--join-url",
                "https://meet.example.se/rum",
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
        assert as_utc(starts) == datetime(YEAR, 7, 1, 10, 0, tzinfo=UTC)
        assert status == "published"
    finally:
        await services.close()


# === bad input: a message and an exit code, never a traceback, nothing stored ===============

HUGE = str(2**63)  # past SQLite's INTEGER; 2**31 is past PostgreSQL's


@dataclass
class CliDatabase:
    env: dict[str, str]
    services: Services
    event_id: int


@pytest.fixture
async def cli_sqlite(tmp_path: Path) -> AsyncIterator[CliDatabase]:
    """A migrated SQLite file holding one upcoming published café with 40 seats."""
    db = tmp_path / "cli.db"
    env = cli_env(f"sqlite:///{db}", tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    event_id = int(
        ok(
            await lunchkafe(
                "events",
                "add",
                "--title",
                "Kafé",
                "--starts",
                f"{YEAR}-03-03T12:00",
                "--duration",
                "60",
                "--capacity",
                "40",
                "--venue",
                "Sal 1",
                "--publish",
                env=env,
            )
        )
    )
    services = Services.build(make_settings(f"sqlite+aiosqlite:///{db}", tmp_path / "var"))
    try:
        yield CliDatabase(env, services, event_id)
    finally:
        await services.close()


async def in_process(services: Services, argv: list[str]) -> Run:
    """The command line's own parser and error handling, in this process: many runs a second.

    An exception that escapes `run_command` fails the test, as it would print a traceback.
    """
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        else:
            code = await run_command(services, args)
    return Run(code, out.getvalue(), err.getvalue())


async def stored_state(services: Services) -> dict[str, list[Any]]:
    """Every row a command could write, to show that a refused one wrote none."""
    tables = ("series", "events", "registrations", "organiser_sends", "outbox_messages")
    state = {}
    for table in tables:
        state[table] = [tuple(r) for r in await rows(services, f'SELECT * FROM "{table}"')]
    await services.engine.dispose()  # release the SQLite file for the next command
    return state


ADD = ["events", "add", "--title", "Kafé", "--capacity", "5"]
SOON_TEXT = f"{YEAR}-03-03T12:00"

# (arguments, the option the answer names); each printed an OverflowError traceback before.
TRACEBACKS = [
    ([*ADD, "--starts", SOON_TEXT, "--duration", "99999999999999999999"], "--duration"),
    ([*ADD, "--starts", SOON_TEXT, "--duration", "99999999999999999999h"], "--duration"),
    ([*ADD, "--starts", SOON_TEXT, "--duration", "1h99999999999999999999m"], "--duration"),
    ([*ADD, "--starts", "9999-12-31T12:00", "--duration", "1440"], "--starts"),
    ([*ADD, "--starts", "0001-01-01T00:00", "--duration", "60"], "--starts"),
    ([*ADD, "--starts", "9999-12-31T23:00-05:00", "--duration", "60"], "--starts"),
    ([*ADD, "--starts", SOON_TEXT, "--ends", "9999-12-31T23:59:59-23:59"], "--ends"),
    (["events", "update", "{id}", "--starts", "9999-12-31T23:30+00:00"], "--starts"),
    (["events", "update", "{id}", "--ends", "0001-01-01T00:00"], "--ends"),
    (["events", "update", HUGE, "--title", "Nytt"], "id"),
    (["events", "publish", HUGE], "id"),
    (["events", "cancel", HUGE], "id"),
    (["mail", "remind", HUGE], "event_id"),
    (["mail", "message", HUGE, "--subject", "Hej", "--body", "Hej"], "event_id"),
    (["mail", "status", HUGE], "send_id"),
]


async def test_inputs_that_printed_a_traceback_get_a_usage_message(cli_sqlite: CliDatabase) -> None:
    before = await stored_state(cli_sqlite.services)
    for arguments, option in TRACEBACKS:
        argv = [a.replace("{id}", str(cli_sqlite.event_id)) for a in arguments]
        usage(await lunchkafe(*argv, env=cli_sqlite.env), option)
    assert await stored_state(cli_sqlite.services) == before


async def test_a_capacity_below_the_confirmed_seats_is_refused(cli_sqlite: CliDatabase) -> None:
    for n in range(31):
        assert (await book(cli_sqlite.services, cli_sqlite.event_id, n)).confirmed
    before = await stored_state(cli_sqlite.services)
    event = str(cli_sqlite.event_id)

    refused(
        await lunchkafe("events", "update", event, "--capacity", "1", env=cli_sqlite.env),
        "--capacity",
        "31",
    )
    assert await stored_state(cli_sqlite.services) == before  # still 40 seats, 31 confirmed
    assert "31/40" in ok(await lunchkafe("events", "list", env=cli_sqlite.env))

    ok(await lunchkafe("events", "update", event, "--capacity", "31", "--yes", env=cli_sqlite.env))
    assert "31/31" in ok(await lunchkafe("events", "list", env=cli_sqlite.env))


async def test_adding_or_moving_an_event_into_the_past_needs_allow_past(
    cli_sqlite: CliDatabase,
) -> None:
    env = cli_sqlite.env
    yesterday = f"{date.today() - timedelta(days=1)}T12:00"
    before = await stored_state(cli_sqlite.services)
    refused(
        await lunchkafe(*ADD, "--starts", yesterday, "--duration", "60", env=env),
        "--starts",
        "--allow-past",
    )
    refused(
        await lunchkafe(
            "events", "update", str(cli_sqlite.event_id), "--starts", yesterday, env=env
        ),
        "--starts",
        "--allow-past",
    )
    assert await stored_state(cli_sqlite.services) == before

    past = int(
        ok(
            await lunchkafe(
                *ADD, "--starts", yesterday, "--duration", "60", "--allow-past", env=env
            )
        )
    )
    ok(
        await lunchkafe(
            "events",
            "update",
            str(cli_sqlite.event_id),
            "--starts",
            yesterday,
            "--allow-past",
            "--yes",
            env=env,
        )
    )
    starts = await rows(cli_sqlite.services, "SELECT starts_at FROM events ORDER BY id")
    await cli_sqlite.services.engine.dispose()
    assert len(starts) == 2
    assert past == cli_sqlite.event_id + 1
    assert all(as_utc(r.starts_at) < datetime.now(UTC) for r in starts)


async def test_unknown_ids_and_sends_say_not_found(cli_sqlite: CliDatabase) -> None:
    before = await stored_state(cli_sqlite.services)
    for argv in (
        ["mail", "status", "999999"],
        ["events", "update", "999999", "--title", "Nytt"],
        ["events", "publish", "999999"],
        ["events", "cancel", "999999"],
        ["mail", "remind", "999999"],
        ["mail", "message", "999999", "--subject", "Hej", "--body", "Välkommen"],
    ):
        run = await lunchkafe(*argv, env=cli_sqlite.env)
        assert run.code == 1, (argv, run)
        refused(run, "not found")
    assert await stored_state(cli_sqlite.services) == before


# (arguments after `events add` or `events update ID`, the option the refusal names)
NOT_TEXT = [
    (["--title", "Kafé\x1b[31m"], "--title"),
    (["--title", "\u202eéfaK"], "--title"),
    (["--title", "=?utf-8?q?Kaf=C3=A9=0D=0ABcc=3A_x=40evil.example?="], "--title"),
    (["--title", " \t "], "--title"),
    (["--venue", "Sal\x07 1"], "--venue"),
    (["--summary", "Kort\x7f"], "--summary"),
    (["--description", "Rad ett\n\u2066Rad två"], "--description"),
    (["--join-url", "javascript:alert(1)//https://x"], "--join-url"),
    (["--join-url", "https://meet.example.se/rum\x01"], "--join-url"),
    (["--join-url", "https://meet.example.se/ett rum"], "--join-url"),
    (["--join-url", "https://meet.example.se:99999999/rum"], "--join-url"),
    (["--join-url", "http://[::1"], "--join-url"),
]


async def test_event_text_follows_the_rule_for_human_text(services: Services) -> None:
    event = await make_event(services, starts_at=SOON, ends_at=SOON + timedelta(hours=1))
    before = await stored_state(services)
    for extra, option in NOT_TEXT:
        base = [*ADD, "--starts", SOON_TEXT, "--duration", "60"]
        added = [*base[:2], *base[4:], *extra] if option == "--title" else [*base, *extra]
        refused(await in_process(services, added), option)
        refused(await in_process(services, ["events", "update", str(event.id), *extra]), option)
    assert await stored_state(services) == before


async def test_ids_past_postgresqls_integer_get_a_usage_message(
    cli_postgres: str, tmp_path: Path
) -> None:
    env = cli_env(cli_postgres, tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    for argv in (["events", "cancel", str(2**31)], ["mail", "status", str(2**31)]):
        usage(await lunchkafe(*argv, env=env), "id")
    refused(await lunchkafe("events", "cancel", str(2**31 - 1), env=env), "not found")


# === any text in any option =================================================================

# Values that broke something once, or sit on an edge of a rule.
AWKWARD = [
    "",
    " ",
    "1h99999999999999999999m",
    "²",
    "٣",
    "9999-12-31T12:00",
    "0001-01-01T00:00",
    "2100-12-31T23:59-05:00",
    "1999-12-31T23:59+00:00",
    f"{YEAR}-03-03T12:00Z",
    "http://[::1",
    "https://meet.example.se:99999999/",
    "javascript:alert(1)",
    "=?utf-8?q?a=0D=0AX-Injected=3A_yes?=",
    "a\x00b",
    "\udcff",
    "\u202e",
    "x" * 301,
    "cafe",
    "all",
]
# Numbers at the edges of the rules and of the drivers (asyncpg int32, SQLite int64), drawn as
# often as all other text: hypothesis draws bounded integers mostly near their lower bound.
EDGES = [0, -1, 1440, 1441, 100_000, 100_001, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**20]
ANY_TEXT = st.one_of(
    st.sampled_from(AWKWARD),
    st.sampled_from(EDGES).map(str),
    st.builds(lambda e, d: str(2**e + d), st.integers(0, 70), st.integers(-1, 1)),
    st.text(st.characters(exclude_categories=()), max_size=40),  # surrogates and NUL too
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}\Z"),
)


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    required: dict[str, str]  # options every run gives, valid unless drawn
    optional: dict[str, str]  # options given only when drawn
    target: str | None  # the positional id: "event", "draft" or "send"


COMMANDS = {
    "events add": Command(
        ("events", "add"),
        {"--title": "Kafé", "--starts": SOON_TEXT, "--duration": "60", "--capacity": "5"},
        dict.fromkeys(
            ("--series", "--join-url", "--venue", "--summary", "--description", "--kind"), "x"
        ),
        None,
    ),
    "events update": Command(
        ("events", "update", "--yes"),
        {},
        dict.fromkeys(
            (
                "--title",
                "--starts",
                "--ends",
                "--capacity",
                "--join-url",
                "--venue",
                "--summary",
                "--description",
            ),
            "x",
        ),
        "event",
    ),
    "events publish": Command(("events", "publish"), {}, {}, "draft"),
    "events cancel": Command(("events", "cancel", "--yes"), {}, {}, "event"),
    "mail remind": Command(("mail", "remind"), {}, {}, "event"),
    "mail message": Command(
        ("mail", "message"), {"--subject": "Hej", "--body": "Välkommen!"}, {"--to": "all"}, "event"
    ),
    "mail status": Command(("mail", "status"), {}, {}, "send"),
}
# Keyed by the fixture's object, which is kept alive here so its id is never reused.
PREPARED: dict[int, tuple[Services, dict[str, int]]] = {}


async def prepare(services: Services) -> dict[str, int]:
    """Once per test: a café with two confirmed and one waiting, a draft, a send, a series."""
    if id(services) not in PREPARED:
        async with services.transaction() as session:
            await create_series(session, slug="x", title="Serien")
        event = await make_event(services, capacity=2)
        for n in range(3):
            await book(services, event.id, n)
        draft = await make_event(services, publish=False)
        async with services.transaction() as session:
            send = await send_reminder_now(session, event.id)
        PREPARED[id(services)] = (
            services,
            {"event": event.id, "draft": draft.id, "send": send.id},
        )
    return PREPARED[id(services)][1]


@pytest.mark.parametrize("name", COMMANDS)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_any_text_in_any_option_is_refused_or_done(
    services: Services, name: str, data: st.DataObject
) -> None:
    command = COMMANDS[name]
    ids = await prepare(services)
    slots = [*command.required, *command.optional, *(["ID"] if command.target else [])]
    drawn = data.draw(st.sets(st.sampled_from(slots), min_size=1), label="options")
    values = {slot: data.draw(ANY_TEXT, label=slot) for slot in sorted(drawn)}
    argv = list(command.words)
    for option, valid in command.required.items():
        argv.append(f"{option}={values.get(option, valid)}")
    argv += [f"{option}={values[option]}" for option in command.optional if option in values]
    if command.target:
        argv += ["--", values.get("ID", str(ids[command.target]))]

    before = await stored_state(services)
    run = await in_process(services, argv)

    assert "Traceback" not in run.err
    if run.code == 0:
        assert run.out.strip(), run  # done, and says so
    else:
        assert run.code in (1, 2), run
        assert run.err.startswith("lunchkafe: ") or "error: argument" in run.err, run
        assert await stored_state(services) == before  # nothing half-stored


async def test_a_database_error_is_told_without_row_data(services: Services) -> None:
    address = "anna.andersson@kommun.example.se"  # stands for any personal value in a row
    with pytest.raises(IntegrityError) as failed:
        async with services.transaction() as session:
            session.add_all([Series(slug=address, title="a"), Series(slug=address, title="b")])
    reason = database_reason(failed.value)
    assert reason
    assert "anna" not in reason


def first_line_then_gone(args: list[str], env: dict[str, str], stderr: Path) -> tuple[str, int]:
    """`lunchkafe ARGS | head -1`: read one line of the output, close the pipe, and wait."""
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(LUNCHKAFE), *args], env=env, stdout=subprocess.PIPE, stderr=err
        )
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        process.stdout.close()
        return line, process.wait(timeout=60)


async def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = cli_env(f"sqlite:///{db}", tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    services = Services.build(make_settings(f"sqlite+aiosqlite:///{db}", tmp_path / "var"))
    try:
        async with services.transaction() as session:
            for n in range(600):  # ~120 kB listed: more than a pipe holds, so writes must wait
                await create_event(
                    session,
                    EventDraft(
                        title=f"Lunchkafé nummer {n} om förenkling, företagsklimat och delaktighet",
                        starts_at=SOON + timedelta(days=n % 300),
                        ends_at=SOON + timedelta(days=n % 300, hours=1),
                        capacity=20,
                        join_url="https://meet.example.se/rum",
                        publish=True,
                    ),
                    site_domain="test.example",
                )
    finally:
        await services.close()

    stderr = tmp_path / "stderr"
    line, code = await asyncio.to_thread(first_line_then_gone, ["events", "list"], env, stderr)

    assert "title" in line
    # As a Unix tool that SIGPIPE ended: 128 + 13, with nothing said about it.
    assert code == 128 + signal.SIGPIPE
    assert stderr.read_text() == ""
    # The command still runs in full when its reader stays.
    assert len(ok(await lunchkafe("events", "list", env=env)).splitlines()) == 601


async def test_migrate_says_one_line_unless_alembics_steps_are_asked_for(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path / "var")
    env.pop("LOG_LEVEL", None)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    first = await lunchkafe("migrate", env=env)
    assert (first.code, first.out, first.err) == (
        0,
        f"database is up to date (revision {head})\n",
        "",
    )
    again = await lunchkafe("migrate", env=env)
    assert (again.code, again.out, again.err) == (0, first.out, "")

    fresh = cli_env(f"sqlite:///{tmp_path / 'asked.db'}", tmp_path / "var", LOG_LEVEL="INFO")
    asked = await lunchkafe("migrate", env=fresh)
    assert asked.out == first.out
    assert "Running upgrade" in asked.err
    assert "Context impl SQLiteImpl" in asked.err

    # Errors are still told: a database that cannot be opened.
    broken = cli_env(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'cli.db'}", tmp_path / "var")
    broken.pop("LOG_LEVEL", None)
    # A process of its own, as a refused migration needs (see the test below).
    refused(await lunchkafe_process("migrate", env=broken), "database error")


async def test_a_database_from_a_newer_release_is_refused_without_a_traceback(
    tmp_path: Path,
) -> None:
    db = tmp_path / "newer.db"
    env = cli_env(f"sqlite:///{db}", tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    # A later release migrated this database to a revision this one does not know.
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeed1234'")
    # A process of its own: run in the test's process, a refused migration leaves an
    # aiosqlite connection whose thread answers after the command's event loop has closed
    # ("Event loop is closed" in that thread); a process that exits at once hides it.
    refused(await lunchkafe_process("migrate", env=env), "f00dfeed1234")


async def test_seed_demo_twice_says_so_and_changes_nothing(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'twice.db'}", tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    ok(await lunchkafe("seed-demo", env=env))
    before = ok(await lunchkafe("events", "list", env=env))
    again = await lunchkafe("seed-demo", env=env)
    refused(again, "Utvecklingsguiden har redan innehåll")
    assert "database error" not in again.err
    assert ok(await lunchkafe("events", "list", env=env)) == before


async def test_organiser_accounts_from_the_command_line(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'org.db'}", tmp_path / "var")
    ok(await lunchkafe("migrate", env=env))
    secret = "en lång lösenfras för kaféet"
    added = ok(
        await lunchkafe(
            "organisers",
            "add",
            "Boss@Myndigheten.example.se",
            "--name",
            "Eva Chef",
            "--role",
            "admin",
            env=env,
            stdin=secret + "\n",
        )
    )
    assert "added: Boss@myndigheten.example.se (admin)" in added
    assert secret not in added
    # Refused with a message and nothing stored: a short password, the same address again.
    refused(
        await lunchkafe(
            "organisers",
            "add",
            "ny@myndigheten.example.se",
            "--name",
            "Ny",
            env=env,
            stdin="kort\n",
        ),
        "password",
    )
    refused(
        await lunchkafe(
            "organisers",
            "add",
            "boss@myndigheten.example.se",
            "--name",
            "Igen",
            env=env,
            stdin=secret + "\n",
        ),
        "email",
    )
    listed = ok(await lunchkafe("organisers", "list", env=env)).splitlines()
    assert len(listed) == 2
    assert "admin" in listed[1]
    assert "active" in listed[1]
    ok(await lunchkafe("organisers", "disable", "boss@myndigheten.example.se", env=env))
    assert "disabled" in ok(await lunchkafe("organisers", "list", env=env))
    refused(await lunchkafe("organisers", "disable", "okand@example.se", env=env), "not found")


async def test_local_times_the_clocks_skip_or_repeat_are_never_guessed(
    cli_sqlite: CliDatabase,
) -> None:
    """Issue 10 item 6: 02:30 on 2027-10-31 happens twice in Stockholm and 02:30 on
    2027-03-28 not at all; each is refused with the offsets to write, nothing stored, and a
    time given with its offset is listed unambiguously."""
    services = cli_sqlite.services
    add = [*ADD, "--duration", "60", "--allow-past"]
    before = await stored_state(services)
    for typed, words in (
        ("2027-10-31T02:30", ("happens twice", "2027-10-31T02:30+02:00", "+01:00")),
        ("2027-03-28T02:30", ("does not exist", "2027-03-28T02:30+01:00", "+02:00")),
    ):
        refused(await in_process(services, [*add, "--starts", typed]), *words)
        refused(
            await in_process(
                services,
                ["events", "update", str(cli_sqlite.event_id), "--starts", typed, "--yes"],
            ),
            *words,
        )
    assert await stored_state(services) == before

    for offset in ("+02:00", "+01:00"):
        ok(await in_process(services, [*add, "--starts", f"2027-10-31T02:30{offset}"]))
    listed = ok(await in_process(services, ["events", "list"]))
    assert "02.30 (sommartid)–02.30 (normaltid)" in listed
    assert "02.30 (normaltid)–03.30" in listed
    assert "02.30–02.30" not in listed
