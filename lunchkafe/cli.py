"""The `lunchkafe` command: migrate, demo data, serving, and organisers' event commands.

Update and cancel call the same domain functions the organiser pages call, so they set
off the same mails and waitlist promotions, and meet the same rules (events.rules).

Bad input never ends in a traceback. Values that cannot be right whatever the database
holds (a capacity of a million, a time in year 1, an id no row can have) are refused by the
argument types below, with argparse's usage message and exit code 2. What the domain
refuses (a title of control characters, a capacity below the seats already confirmed, an
unknown id) and what the database cannot do are caught in `run_command`, printed as one
line each on stderr, and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from asyncpg import PostgresError  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from events.errors import EventInPast
from events.models import EventKind
from events.rules import EARLIEST, LATEST, LONGEST, MAX_CAPACITY, MIN_CAPACITY
from events.schedule import EventChanges, EventDraft, create_event, publish_event
from foundation.errors import DomainError
from foundation.i18n import format_span
from foundation.ids import MAX_ID
from foundation.logs import configure_logging
from foundation.services import Services
from foundation.settings import ConfigurationError, Settings
from foundation.timeparse import UnclearLocalTime, parse_duration, read_moment, to_utc
from foundation.timestamps import utcnow
from guide import bulk
from lunchkafe.previews import preview_lines
from mail.models import Audience
from mail.outbox import outbox_summary, send_progress
from organisers import accounts, tokens
from organisers.changes import cancel_event_as_previewed, change_event
from organisers.errors import AccountNotFound
from organisers.models import Role
from organisers.password_links import add_with_invitation
from registrations import listing
from registrations.messaging import send_message, send_reminder_now
from registrations.organising import ChangePreview, preview_cancel, preview_update

T = TypeVar("T")

# The options that set each field, so a refusal names what the organiser typed.
OPTIONS = {
    "title": "--title",
    "summary": "--summary",
    "description": "--description",
    "starts_at": "--starts",
    "ends_at": "--ends",
    "capacity": "--capacity",
    "join_url": "--join-url",
    "venue": "--venue",
}
# SQLSTATE classes of a failed connection: 08 connection, 28 authorisation, 3D no database.
_CONNECTION_SQLSTATES = ("08", "28", "3D")
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}", re.ASCII)


def _argument(name: str, parse: Callable[[str], T]) -> Callable[[str], T]:
    """`parse` as an argparse type: its ValueError message becomes argparse's (exit 2)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def _bounded_int(what: str, lowest: int, highest: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        # ASCII digits only, and few of them: int() would also take '٣' or 5,000 digits.
        value = int(text) if _INTEGER.fullmatch(text.strip()) else None
        if value is None or not lowest <= value <= highest:
            raise ValueError(f"{what} must be a whole number from {lowest} to {highest}")
        return value

    return _argument(what, parse)


def _moment(text: str) -> datetime:
    """ISO 8601 as typed (naive: local time), within the years events may have."""
    moment = read_moment(text)
    if not EARLIEST.year <= moment.year < LATEST.year:
        raise ValueError(f"{text!r} is outside the years {EARLIEST.year} to {LATEST.year - 1}")
    return moment


def _duration(text: str) -> timedelta:
    return parse_duration(text, longest=LONGEST)


row_id = _bounded_int("an id", 1, MAX_ID)
capacity = _bounded_int("the capacity", MIN_CAPACITY, MAX_CAPACITY)
moment = _argument("time", _moment)
duration = _argument("duration", _duration)


def _asks_first(command: argparse.ArgumentParser) -> None:
    """The options of a change that reaches people: it is previewed, then confirmed."""
    command.add_argument(
        "--message", default="", help="a note to attendees, carried in the mails the change sends"
    )
    command.add_argument(
        "--dry-run", action="store_true", help="print who would be told what; change nothing"
    )
    command.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation after the preview"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lunchkafe", description="Lunchkafé command line")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="bring the database schema up to date")
    seed = commands.add_parser("seed-demo", help="load the demo series, events and guide")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no events")
    serve = commands.add_parser("serve", help="serve the web app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--reload",
        action="store_true",
        help="restart on every change to the code or a template (when developing)",
    )

    years = f"{EARLIEST.year}–{LATEST.year - 1}"
    past = "accept a time before now (recording a past event); refused otherwise"
    events = commands.add_parser("events", help="organise events").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = events.add_parser("add", help="create an event; prints its id")
    add.add_argument("--title", required=True)
    add.add_argument(
        "--starts", required=True, type=moment, help=f"ISO 8601, {years}; no offset: TIMEZONE"
    )
    end = add.add_mutually_exclusive_group(required=True)
    end.add_argument("--ends", type=moment, help="ISO 8601")
    end.add_argument("--duration", type=duration, help="minutes (60) or 1h30m; at most 24h")
    add.add_argument(
        "--capacity", required=True, type=capacity, help=f"{MIN_CAPACITY}–{MAX_CAPACITY}"
    )
    add.add_argument("--series", metavar="SLUG")
    add.add_argument("--join-url", help="http:// or https://")
    add.add_argument("--venue")
    add.add_argument("--summary", default="")
    add.add_argument("--description", default="")
    add.add_argument("--kind", choices=[k.value for k in EventKind], default="cafe")
    add.add_argument("--publish", action="store_true", help="publish at once (default: draft)")
    add.add_argument("--allow-past", action="store_true", help=past)

    events.add_parser("list", help="list every event with seats and status")

    update = events.add_parser("update", help="change an event; attendees are told")
    update.add_argument("id", type=row_id)
    update.add_argument("--title")
    update.add_argument("--starts", type=moment, help="ISO 8601; the length is kept")
    update.add_argument("--ends", type=moment, help="ISO 8601")
    update.add_argument("--capacity", type=capacity, help="never below the seats already confirmed")
    update.add_argument("--join-url", help="empty string removes it")
    update.add_argument("--venue", help="empty string removes it")
    update.add_argument("--summary")
    update.add_argument("--description")
    update.add_argument("--allow-past", action="store_true", help=past)
    _asks_first(update)

    publish = events.add_parser("publish", help="publish a draft")
    publish.add_argument("id", type=row_id)
    cancel = events.add_parser("cancel", help="cancel an event; attendees are told")
    cancel.add_argument("id", type=row_id)
    _asks_first(cancel)

    mail = commands.add_parser("mail", help="reminders, messages and delivery").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    remind = mail.add_parser("remind", help="send a reminder now to every confirmed attendee")
    remind.add_argument("event_id", type=row_id)
    message = mail.add_parser("message", help="send a message to the people on an event")
    message.add_argument("event_id", type=row_id)
    message.add_argument("--subject", required=True)
    message.add_argument("--body", required=True, help="plain text; blank lines make paragraphs")
    message.add_argument("--to", choices=[a.value for a in Audience], default="confirmed")
    status = mail.add_parser("status", help="progress of a send, or of the whole outbox")
    status.add_argument("send_id", type=row_id, nargs="?")
    mail.add_parser("deliver", help="plan due reminders and deliver due mail now")

    organisers = commands.add_parser(
        "organisers", help="organiser accounts for the workspace"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    add_organiser = organisers.add_parser(
        "add",
        help="add an account; the password is read from standard input, or with --invite "
        "set by the person from a mailed one-time link",
    )
    add_organiser.add_argument("email")
    add_organiser.add_argument("--name", required=True)
    add_organiser.add_argument("--role", choices=[r.value for r in Role], default="organiser")
    add_organiser.add_argument(
        "--invite",
        action="store_true",
        help="mail a link to set the password (valid 7 days, works once) instead of reading one",
    )
    organisers.add_parser("list", help="every account with its role and state")
    disable = organisers.add_parser("disable", help="disable an account and sign it out")
    disable.add_argument("email")
    token = organisers.add_parser(
        "token", help="make a personal access token for the organiser API; printed once"
    )
    token.add_argument("email")
    token.add_argument("--name", required=True, help="what the token is for, to tell it apart")

    guide = commands.add_parser(
        "guide", help="the development guide in bulk: export and import"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    export = guide.add_parser(
        "export", help="print the guide as JSON (every kind) or CSV (one kind, ';')"
    )
    export.add_argument("--format", choices=["json", "csv"], default="json")
    export.add_argument(
        "--kind",
        choices=bulk.KINDS,
        action="append",
        help="only this kind (repeat for several in JSON); CSV needs exactly one",
    )
    import_ = guide.add_parser(
        "import",
        help="save every item of a JSON or CSV file by slug; nothing when any row is bad",
    )
    import_.add_argument("file", help="the file (.csv read as CSV, anything else as JSON)")
    import_.add_argument("--format", choices=["json", "csv"], help="instead of the file's ending")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv, os.environ)
        finally:
            # Now, while a reader that left can still be told apart from any other failure,
            # rather than at interpreter exit.
            sys.stdout.flush()
    except BrokenPipeError:
        return _reader_gone()


def _main(argv: Sequence[str] | None, environ: Mapping[str, str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environ(environ)
    except ConfigurationError as exc:
        print(f"lunchkafe: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "migrate" and "LOG_LEVEL" not in environ:
        # Alembic's INFO lines ("Context impl …", "Running upgrade …") are for whoever asks
        # for them with LOG_LEVEL; the command says in one line where the database stands.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "serve":
        return _serve(settings, args)
    return asyncio.run(_run(settings, args))


def _reader_gone() -> int:
    """The reader of our output has gone (`lunchkafe events list | head -1`): end quietly
    with the status of a Unix tool that SIGPIPE ended, 128 + 13, as a shell reports it."""
    # Python flushes stdout once more on the way out; that write must not fail as well.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


WEB_GRACE_SECONDS = 20


def _serve(settings: Settings, args: Any) -> int:
    import uvicorn

    uvicorn.run(
        "lunchkafe.asgi:app",
        host=args.host,
        port=settings.port,
        reload=args.reload,
        # Pages read each template once per process (foundation.rendering): a template
        # edited while developing takes effect by a restart.
        reload_includes=["*.html", "*.txt"] if args.reload else None,
        access_log=False,
        # On SIGTERM requests in flight finish, for at most this many seconds (the Procfile
        # says the same; a supervisor should wait longer, README: Operating it).
        timeout_graceful_shutdown=WEB_GRACE_SECONDS,
    )
    return 0


async def _run(settings: Settings, args: Any) -> int:
    services = Services.build(settings)
    try:
        return await run_command(services, args)
    finally:
        await services.close()


async def run_command(services: Services, args: argparse.Namespace) -> int:
    """Run one parsed command; 0 when done, 1 when refused or the database failed.

    The one place where refusals become messages: each is printed on stderr, without a
    traceback and without the database's parameters (names, addresses, tokens).
    """
    wrote_mail = False

    async def remember() -> None:
        nonlocal wrote_mail
        wrote_mail = True

    services.after_commit.append(remember)
    try:
        await _dispatch(services, args)
        if wrote_mail:
            await _hand_over_mail(services)
    except NotConfirmed:
        print("lunchkafe: avbrutet, inget har ändrats", file=sys.stderr)
        return 1
    except UnclearLocalTime as exc:  # a wall time the clocks skip or repeat: never guessed
        print(f"lunchkafe: {exc}", file=sys.stderr)
        return 1
    except bulk.BadFile as exc:
        print(f"lunchkafe: {exc}; nothing imported", file=sys.stderr)
        return 1
    except bulk.ImportRefused as exc:
        for fault in exc.faults:
            field = f", {fault.field}" if fault.field else ""
            slug = f" ({fault.slug})" if fault.slug else ""
            print(f"lunchkafe: {fault.where}{slug}{field}: {fault.message}", file=sys.stderr)
        print(f"lunchkafe: {len(exc.faults)} faults; nothing imported", file=sys.stderr)
        return 1
    except DomainError as exc:
        for line in _refusal(exc):
            print(f"lunchkafe: {line}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of stdout left, not the database: see main()
        raise
    except (OSError, SQLAlchemyError, PostgresError) as exc:  # unreachable or un-migrated
        print(
            f"lunchkafe: database error: {_database_reason(exc)} (check DATABASE_URL; run "
            "`lunchkafe migrate` on a new database)",
            file=sys.stderr,
        )
        return 1
    finally:
        services.after_commit.remove(remember)
    return 0


def _refusal(exc: DomainError) -> list[str]:
    """The lines a refusal prints: its message (Swedish, as the command line's texts from the
    domain are), or for field errors one line per option."""
    if exc.code == "not_found":
        return [f"not found: {exc.message}"]
    if exc.fields:
        lines = [f"{OPTIONS.get(name, name)}: {text}" for name, text in exc.fields.items()]
        if isinstance(exc, EventInPast):
            lines.append("add --allow-past if the time is meant to be in the past")
        return lines
    return [exc.message]


def _database_reason(exc: BaseException) -> str:
    """Why the database failed, in words that carry no row data.

    SQLite's messages name tables and columns, never values; PostgreSQL's can quote them
    ("invalid input syntax …: \"…\"", "DETAIL: Key (email)=(…)"), so for PostgreSQL only a
    connection problem is told in words, anything else by its kind.
    """
    reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    cause = reason.__cause__ or reason  # SQLAlchemy's asyncpg adapter wraps the driver's error
    told = isinstance(cause, (sqlite3.Error, OSError)) or (
        isinstance(cause, PostgresError)
        and str(getattr(cause, "sqlstate", "")).startswith(_CONNECTION_SQLSTATES)
    )
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return first_line if told and first_line else type(cause).__name__


async def _dispatch(services: Services, args: argparse.Namespace) -> None:
    if args.command == "migrate":
        from lunchkafe.migrate import current_revision, upgrade

        await upgrade(services.engine)
        print(f"database is up to date (revision {await current_revision(services.engine)})")
    elif args.command == "seed-demo":
        from lunchkafe.demo import load_demo

        loaded = await load_demo(services, only_if_empty=args.if_empty)
        print("demo data loaded" if loaded else "database already has content; left as it is")
    elif args.command == "events":
        await _events(services, args)
    elif args.command == "mail":
        await _mail(services, args)
    elif args.command == "organisers":
        await _organisers(services, args)
    elif args.command == "guide":
        await _guide(services, args)


async def _events(services: Services, args: argparse.Namespace) -> None:
    settings = services.settings
    tz = settings.timezone
    if args.action == "add":
        starts = to_utc(args.starts, tz)
        ends = to_utc(args.ends, tz) if args.ends else starts + args.duration
        async with services.transaction() as session:
            event = await create_event(
                session,
                EventDraft(
                    title=args.title,
                    starts_at=starts,
                    ends_at=ends,
                    capacity=args.capacity,
                    summary=args.summary,
                    description=args.description,
                    kind=EventKind(args.kind),
                    series_slug=args.series,
                    join_url=args.join_url,
                    venue=args.venue,
                    publish=args.publish,
                    allow_past=args.allow_past,
                ),
                site_domain=settings.site_domain,
            )
        print(event.id)
    elif args.action == "list":
        async with services.transaction() as session:
            items = await listing.all_events(session)
        print(f"{'id':>4}  {'status':<10} {'seats':>9} {'queue':>5}  when / title")
        for item in items:
            e = item.event
            seats = f"{item.confirmed}/{e.capacity}"
            print(
                f"{e.id:>4}  {e.status.value:<10} {seats:>9} {item.waitlisted:>5}  "
                f"{format_span(e.starts_at, e.ends_at, tz)}  {e.title}"
            )
    elif args.action == "update":
        changes = EventChanges(
            title=args.title,
            summary=args.summary,
            description=args.description,
            starts_at=to_utc(args.starts, tz) if args.starts else None,
            ends_at=to_utc(args.ends, tz) if args.ends else None,
            capacity=args.capacity,
            join_url=args.join_url,
            venue=args.venue,
            allow_past=args.allow_past,
        )
        async with services.transaction() as session:
            preview = await preview_update(session, args.id, changes, note=args.message)
        if not _confirmed(preview, args, tz, settings.default_language):
            return
        async with services.transaction() as session:
            done = await change_event(
                session,
                None,
                args.id,
                changes,
                note=args.message,
                seen=preview.version,
                now=utcnow(),
            )
        # The preview's event is the one the change updated, in the same session.
        print(f"event {args.id} updated (sequence {done.event.sequence})")
    elif args.action == "publish":
        async with services.transaction() as session:
            event = await publish_event(session, args.id)
        print(f"event {event.id} published")
    elif args.action == "cancel":
        async with services.transaction() as session:
            preview = await preview_cancel(session, args.id, note=args.message)
        if not _confirmed(preview, args, tz, settings.default_language):
            return
        async with services.transaction() as session:
            await cancel_event_as_previewed(
                session, None, args.id, note=args.message, seen=preview.version, now=utcnow()
            )
        print(f"event {args.id} cancelled")


class NotConfirmed(Exception):
    """The organiser answered no (or nothing) when asked to confirm a change."""


YES = frozenset({"j", "ja", "y", "yes"})


def _confirmed(preview: ChangePreview, args: argparse.Namespace, tz: str, language: str) -> bool:
    """Print the preview (in the site's default language); False for a dry run, True once
    confirmed (at once with --yes). Raises NotConfirmed on any answer but j, ja, y or yes."""
    for line in preview_lines(preview, tz, language, note=args.message or ""):
        print(line)
    if args.dry_run:
        print("(--dry-run: inget har ändrats)")
        return False
    if args.yes:
        return True
    print("Fortsätt? [j/N] ", end="", flush=True)
    try:
        answer = sys.stdin.readline() if sys.stdin else ""
    except (OSError, ValueError):  # no terminal or pipe to read from: nobody said yes
        answer = ""
    if answer.strip().lower() not in YES:
        raise NotConfirmed()
    return True


async def _hand_over_mail(services: Services) -> None:
    """Mail this command queued goes out now: via the arq worker, or from here without Redis."""
    if services.settings.redis_url:
        from workers.runner import nudge_once

        await nudge_once(services)
        print("mail queued for the worker")
    else:
        from notices.delivery import deliver_due

        report = await deliver_due(services)
        print(f"mail: {report.sent} sent, {report.retried} to retry, {report.failed} failed")


async def _mail(services: Services, args: argparse.Namespace) -> None:
    if args.action == "remind":
        async with services.transaction() as session:
            send = await send_reminder_now(session, args.event_id)
        print(f"send {send.id} queued; follow it with: lunchkafe mail status {send.id}")
    elif args.action == "message":
        async with services.transaction() as session:
            send = await send_message(
                session,
                args.event_id,
                subject=args.subject,
                body=args.body,
                audience=Audience(args.to),
            )
        print(f"send {send.id} queued; follow it with: lunchkafe mail status {send.id}")
    elif args.action == "status":
        async with services.transaction() as session:
            if args.send_id is not None:
                progress = await send_progress(session, args.send_id)
                print(" ".join(f"{key}={value}" for key, value in progress.items()))
            else:
                for line in await outbox_summary(session):
                    print(line)
    elif args.action == "deliver":
        from workers.jobs import job_context, sweep

        print(await sweep(job_context(services)))


def _password_from_stdin() -> str:
    """The password: asked for without echo on a terminal, else the first line of stdin
    (so a script can pipe it; it never appears in the process list or shell history)."""
    if sys.stdin.isatty():
        return getpass.getpass("Password (at least 12 characters): ")
    return sys.stdin.readline().rstrip("\r\n")


async def _organisers(services: Services, args: argparse.Namespace) -> None:
    now = utcnow()
    if args.action == "add" and args.invite:
        async with services.transaction() as session:
            organiser = await add_with_invitation(
                session,
                email=args.email,
                name=args.name,
                role=args.role,
                secret_key=services.settings.secret_key,
                now=now,
            )
        print(
            f"account {organiser.id} added: {organiser.email} ({organiser.role.value}); "
            "an invitation to set a password is in the outbox"
        )
    elif args.action == "add":
        password = _password_from_stdin()
        async with services.transaction() as session:
            organiser = await accounts.add_organiser(
                session,
                email=args.email,
                name=args.name,
                role=args.role,
                password=password,
                now=now,
            )
        print(f"account {organiser.id} added: {organiser.email} ({organiser.role.value})")
    elif args.action == "list":
        async with services.transaction() as session:
            everyone = await accounts.list_organisers(session)
        print(f"{'id':>4}  {'role':<9}  {'state':<8}  email")
        for account in everyone:
            state = "disabled" if account.disabled_at else "active"
            print(f"{account.id:>4}  {account.role.value:<9}  {state:<8}  {account.email}")
    elif args.action == "disable":
        async with services.transaction() as session:
            found = await accounts.find_by_email(session, args.email)
            if found is None:
                raise AccountNotFound()
            await accounts.disable(session, found, now)
        print(f"account {found.id} disabled and signed out")
    elif args.action == "token":
        async with services.transaction() as session:
            owner = await accounts.find_by_email(session, args.email)
            if owner is None or owner.disabled_at is not None:
                raise AccountNotFound()
            made = await tokens.create_token(session, owner, args.name, now)
        # The only time the token is seen: only its hash is kept.
        print(made.secret)
        print(
            f"token {made.token.id} ({made.token.name}) for {owner.email}: send it as "
            "Authorization: Bearer; it is not shown again",
            file=sys.stderr,
        )


def _read_import(path: str) -> bytes:
    """The file's bytes, one more than an import may have at most (so a larger one is told
    apart without reading all of it). Raises BadFile."""
    try:
        with open(path, "rb") as file:
            return file.read(bulk.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise bulk.BadFile(f"cannot read {path}: {exc.strerror}") from None


async def _guide(services: Services, args: argparse.Namespace) -> None:
    if args.action == "export":
        kinds = list(dict.fromkeys(args.kind or bulk.KINDS))
        if args.format == "csv" and len(kinds) != 1:
            raise bulk.BadFile("CSV holds one kind: add --kind challenges|examples|tips|processes")
        async with services.reading() as session:
            if args.format == "csv":
                sys.stdout.write(await bulk.export_csv(session, kinds[0]))
            else:
                sys.stdout.write(bulk.document_text(await bulk.export_document(session, kinds)))
        return
    data = _read_import(args.file)
    as_csv = (args.format or ("csv" if args.file.lower().endswith(".csv") else "json")) == "csv"
    rows = bulk.read_csv(data)[1] if as_csv else bulk.read_document(data)
    async with services.transaction() as session:
        outcome = await bulk.import_items(session, rows)
    print(
        f"imported: {outcome.created} new, {outcome.changed} changed, {outcome.unchanged} unchanged"
    )


if __name__ == "__main__":
    sys.exit(main())
