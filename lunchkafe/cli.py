"""The `lunchkafe` command: migrate, demo data, serving, and organisers' event commands.

Update and cancel call the same domain functions the organiser pages call, so they set
off the same mails and waitlist promotions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from asyncpg import PostgresError  # type: ignore[import-untyped]
from sqlalchemy.exc import SQLAlchemyError

from events import listing
from events.errors import EventError
from events.models import EventKind
from events.organising import cancel_event, update_event
from events.schedule import EventChanges, EventDraft, create_event, publish_event
from lunchkafe.i18n import format_span
from lunchkafe.services import Services
from lunchkafe.settings import ConfigurationError, Settings
from lunchkafe.timeparse import parse_duration, parse_moment
from mail.models import Audience
from mail.outbox import outbox_summary, send_progress
from registrations.errors import RegistrationError
from registrations.messaging import send_message, send_reminder_now


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lunchkafe", description="Lunchkafé command line")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="bring the database schema up to date")
    seed = commands.add_parser("seed-demo", help="load the demo series, events and guide")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no events")
    serve = commands.add_parser("serve", help="serve the web app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--reload", action="store_true")

    events = commands.add_parser("events", help="organise events").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = events.add_parser("add", help="create an event; prints its id")
    add.add_argument("--title", required=True)
    add.add_argument("--starts", required=True, help="ISO 8601; no offset means TIMEZONE")
    end = add.add_mutually_exclusive_group(required=True)
    end.add_argument("--ends", help="ISO 8601")
    end.add_argument("--duration", help="minutes (60) or 1h30m")
    add.add_argument("--capacity", required=True, type=int)
    add.add_argument("--series", metavar="SLUG")
    add.add_argument("--join-url")
    add.add_argument("--venue")
    add.add_argument("--summary", default="")
    add.add_argument("--description", default="")
    add.add_argument("--kind", choices=[k.value for k in EventKind], default="cafe")
    add.add_argument("--publish", action="store_true", help="publish at once (default: draft)")

    events.add_parser("list", help="list every event with seats and status")

    update = events.add_parser("update", help="change an event; attendees are told")
    update.add_argument("id", type=int)
    update.add_argument("--title")
    update.add_argument("--starts")
    update.add_argument("--ends")
    update.add_argument("--capacity", type=int)
    update.add_argument("--join-url", help="empty string removes it")
    update.add_argument("--venue", help="empty string removes it")
    update.add_argument("--summary")
    update.add_argument("--description")

    publish = events.add_parser("publish", help="publish a draft")
    publish.add_argument("id", type=int)
    cancel = events.add_parser("cancel", help="cancel an event; attendees are told")
    cancel.add_argument("id", type=int)

    mail = commands.add_parser("mail", help="reminders, messages and delivery").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    remind = mail.add_parser("remind", help="send a reminder now to every confirmed attendee")
    remind.add_argument("event_id", type=int)
    message = mail.add_parser("message", help="send a message to the people on an event")
    message.add_argument("event_id", type=int)
    message.add_argument("--subject", required=True)
    message.add_argument("--body", required=True, help="plain text; blank lines make paragraphs")
    message.add_argument("--to", choices=[a.value for a in Audience], default="confirmed")
    status = mail.add_parser("status", help="progress of a send, or of the whole outbox")
    status.add_argument("send_id", type=int, nargs="?")
    mail.add_parser("deliver", help="plan due reminders and deliver due mail now")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environ(os.environ)
    except ConfigurationError as exc:
        print(f"lunchkafe: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args)
    try:
        return asyncio.run(_run(settings, args))
    except (EventError, RegistrationError, ValueError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        print(f"lunchkafe: {message}", file=sys.stderr)
        return 1
    except (OSError, SQLAlchemyError, PostgresError) as exc:  # unreachable or un-migrated
        reason = getattr(exc, "orig", None) or exc
        print(
            f"lunchkafe: database error: {reason} (check DATABASE_URL; run `lunchkafe "
            "migrate` on a new database)",
            file=sys.stderr,
        )
        return 1


def _serve(settings: Settings, args: Any) -> int:
    import uvicorn

    uvicorn.run(
        "lunchkafe.asgi:app",
        host=args.host,
        port=settings.port,
        reload=args.reload,
        access_log=False,
    )
    return 0


async def _run(settings: Settings, args: Any) -> int:
    services = Services.build(settings)
    wrote_mail = False

    async def remember() -> None:
        nonlocal wrote_mail
        wrote_mail = True

    services.after_commit.append(remember)
    try:
        if args.command == "migrate":
            from lunchkafe.migrate import upgrade

            await upgrade(services.engine)
            print("database is up to date")
        elif args.command == "seed-demo":
            from lunchkafe.demo import load_demo

            loaded = await load_demo(services, only_if_empty=args.if_empty)
            print("demo data loaded" if loaded else "database already has events; left as it is")
        elif args.command == "events":
            await _events(services, args)
        elif args.command == "mail":
            await _mail(services, args)
        if wrote_mail:
            await _hand_over_mail(services)
    finally:
        await services.close()
    return 0


async def _events(services: Services, args: Any) -> None:
    settings = services.settings
    tz = settings.timezone
    if args.action == "add":
        starts = parse_moment(args.starts, tz)
        ends = parse_moment(args.ends, tz) if args.ends else starts + parse_duration(args.duration)
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
            starts_at=parse_moment(args.starts, tz) if args.starts else None,
            ends_at=parse_moment(args.ends, tz) if args.ends else None,
            capacity=args.capacity,
            join_url=args.join_url,
            venue=args.venue,
        )
        async with services.transaction() as session:
            event = await update_event(session, args.id, changes)
        print(f"event {event.id} updated (sequence {event.sequence})")
    elif args.action == "publish":
        async with services.transaction() as session:
            event = await publish_event(session, args.id)
        print(f"event {event.id} published")
    elif args.action == "cancel":
        async with services.transaction() as session:
            event = await cancel_event(session, args.id)
        print(f"event {event.id} cancelled")


async def _hand_over_mail(services: Services) -> None:
    """Mail this command queued goes out now: via the arq worker, or from here without Redis."""
    if services.settings.redis_url:
        from workers.runner import nudge_once

        await nudge_once(services)
        print("mail queued for the worker")
    else:
        from mail.delivery import deliver_due

        report = await deliver_due(services)
        print(f"mail: {report.sent} sent, {report.retried} to retry, {report.failed} failed")


async def _mail(services: Services, args: Any) -> None:
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
        from workers.jobs import sweep

        print(await sweep({"services": services}))


if __name__ == "__main__":
    sys.exit(main())
