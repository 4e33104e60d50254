"""A GET never writes: every GET and HEAD route of the app, on real data, changes no row.

The routes come from the app's own route table, each path parameter filled with every value
of its kind the seeded data holds (event ids, slugs, manage and feed tokens, mailbox message
ids) and with unknown ones, so a new GET route is walked without anyone listing it here; a
route with a parameter this file cannot fill, or one that never answers 2xx on the seeded
data, fails the test rather than being skipped. What is checked: every table's rows before
and after, and that no INSERT, UPDATE or DELETE reached the database while the GETs ran.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from events.models import Event, Series
from foundation import flash
from foundation.database import Base
from foundation.rendering import LANGUAGE_COOKIE
from foundation.services import Services
from foundation.timestamps import utcnow
from guide.models import Challenge, GuideExample, GuideProcess, GuideTip
from guide.proposal_models import GuideProposal
from lunchkafe.app import create_app
from lunchkafe.demo import load_demo
from mail.heartbeat import beat
from mail.mailbox import LocalMailbox
from mail.models import OutboxMessage, OutboxStatus
from notices.delivery import deliver_due
from organisers import accounts, password_links
from organisers import sessions as organiser_sessions
from organisers import tokens as organiser_tokens
from organisers.access import SALT
from organisers.attendees_workspace import READ_ACTIONS
from registrations import booking
from registrations.feeds import feed_token, replace_feed_address
from registrations.messaging import send_reminder_now
from registrations.models import AttendeeFeed, Registration, RegistrationStatus
from registrations.organising import cancel_event
from registrations.personal_data import link_token
from registrations.tokens import derive_token, new_nonce
from tests.conftest import SECRET
from tests.factories import make_event, person
from tests.guide_proposals import vera_proposes
from web.guide_share import SENT_NOTE

WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|UPSERT|MERGE|TRUNCATE|CREATE|DROP|ALTER)\b", re.I
)
UNKNOWN_ID = str(2**31 - 1)  # a well-formed id that names no row
# A token of the right shape that no row holds, so the lookup reaches the database.
UNKNOWN_TOKEN = derive_token(SECRET, new_nonce())
# Receipts that show only with a note of their own, not a booking's (else they redirect).
RECEIPT_NOTES = {"/guide/share/sent": SENT_NOTE}
METRICS_TOKEN = "metrics-token-of-the-walk"  # /metrics answers only to its own bearer


@dataclass
class Seeded:
    """What the walk fills path parameters with, by parameter name."""

    samples: dict[str, list[str]]
    queries: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # by route name
    # By route name, then parameter: where a parameter's name does not say its kind (a
    # `{slug}` or `{token}` of one kind of row), that kind's values and unknown ones instead
    # of every kind's; another kind's value is one more unknown value to that route.
    by_route: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def values(self, route: str, parameter: str) -> list[str]:
        return self.by_route.get(route, {}).get(parameter, self.samples[parameter])


async def seed(services: Services) -> Seeded:
    """The demo, plus every state a booking and an event can be in, and delivered mail."""
    await load_demo(services, only_if_empty=False)
    small = await make_event(services, title="Litet kafé", capacity=2)
    doomed = await make_event(services, title="Inställt kafé")
    begins = utcnow() - timedelta(days=30)
    past = await make_event(
        services, title="Förbi", starts_at=begins, ends_at=begins + timedelta(hours=1)
    )
    await make_event(services, title="Utkast", publish=False)

    async def book(event: Event, n: int, **options: Any) -> str:
        async with services.transaction() as session:
            result = await booking.book(
                session, event_id=event.id, attendee=person(n), secret_key=SECRET, **options
            )
        assert result.manage_token is not None
        return result.manage_token

    tokens = [await book(small, n) for n in (1, 2, 3)]  # two seats, one waiting
    cancelled = await book(small, 4)
    async with services.transaction() as session:
        await booking.cancel(session, token=cancelled)
    tokens += [
        cancelled,
        await book(doomed, 5),
        await book(past, 6, now=begins - timedelta(days=1)),
    ]
    async with services.transaction() as session:
        series = (await session.scalars(select(Series))).one()
        booked = await booking.book_series(
            session, series_slug=series.slug, attendee=person(1), secret_key=SECRET
        )
        await cancel_event(session, doomed.id)
    tokens += [b.manage_token for b in booked.booked if b.manage_token is not None]

    async with services.transaction() as session:
        statuses = {r.status for r in await session.scalars(select(Registration))}
        assert statuses == set(RegistrationStatus), statuses
        replaced = await session.scalar(
            select(AttendeeFeed).where(AttendeeFeed.email_normalised == "person6@kommun.example.se")
        )
        assert replaced is not None
        revoked = feed_token(replaced, SECRET)
        await replace_feed_address(session, revoked, SECRET)
    async with services.transaction() as session:  # an organiser's send, delivered below
        send_id = (await send_reminder_now(session, small.id)).id
    await deliver_due(services)
    tokens.append(await book(small, 7))  # mail still waiting to go out, too
    async with services.transaction() as session:  # an organiser invited, the mail waiting
        invited = await password_links.add_with_invitation(
            session,
            email="ny@myndigheten.example.se",
            name="Ny",
            role="organiser",
            secret_key=SECRET,
            now=utcnow(),
        )
        invitation = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == invited.email)
        )
        assert invitation is not None
        invitation_token = password_links.derive_token(SECRET, invitation.payload["nonce"])
    await vera_proposes(services)  # a proposal to the guide, undecided
    async with services.transaction() as session:  # and one the server refused
        outbox_ids = [str(i) for i in await session.scalars(select(OutboxMessage.id))]
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == int(outbox_ids[0]))
            .values(status=OutboxStatus.FAILED, last_error="550 5.1.1 no such user")
        )
    async with services.transaction() as session:
        now = utcnow()
        await beat(session, worker="test:1", started_at=now, redis_ok=False, now=now)
        held = list(await session.scalars(select(AttendeeFeed)))
        feeds = [feed_token(f, SECRET) for f in held]
        # What a link mailed from /my-data carries (registrations.personal_data).
        data_links = [link_token(f, SECRET) for f in held]
        events = [str(i) for i in await session.scalars(select(Event.id))]
        series_ids = [str(i) for i in await session.scalars(select(Series.id))]
        series_slugs = list(await session.scalars(select(Series.slug)))
        slugs = [
            *series_slugs,
            *await session.scalars(select(GuideExample.slug)),
            # The guide's tip, process and challenge pages.
            *await session.scalars(select(GuideTip.slug)),
            *await session.scalars(select(GuideProcess.slug)),
            *await session.scalars(select(Challenge.slug)),
        ]
        challenges = list(await session.scalars(select(Challenge.slug)))
        # The workspace's proposals to the guide.
        proposal_ids = [str(i) for i in await session.scalars(select(GuideProposal.id))]
        # The guide's editor: each kind's edit pages take that kind's slugs.
        kinds: dict[str, type[GuideExample | GuideTip | GuideProcess | Challenge]] = {
            "example": GuideExample,
            "tip": GuideTip,
            "process": GuideProcess,
            "challenge": Challenge,
        }
        by_kind = {k: list(await session.scalars(select(m.slug))) for k, m in kinds.items()}
    messages = [entry.id for entry in LocalMailbox(services.settings.mailbox_dir).list()]
    assert messages, "the walk needs delivered mail for the mailbox pages"
    unknown_tokens = [UNKNOWN_TOKEN, "kort", revoked]

    def slugs_of(*kinds: Sequence[str]) -> dict[str, list[str]]:
        return {"slug": [*itertools.chain(*kinds), "finns-inte"]}

    def tokens_of(kind: list[str]) -> dict[str, list[str]]:
        others = [t[0] for t in (tokens, feeds, data_links, [invitation_token]) if t is not kind]
        return {"token": [*kind, *others, *unknown_tokens]}

    return Seeded(
        samples={
            "event_id": [*events, UNKNOWN_ID],
            "series_id": [*series_ids, UNKNOWN_ID],
            "slug": [*slugs, "finns-inte"],
            "token": [*tokens, *feeds, *data_links, invitation_token, *unknown_tokens],
            "message_id": [*messages, "finns-inte"],
            "send_id": [str(send_id), UNKNOWN_ID],
            "outbox_id": [*outbox_ids, UNKNOWN_ID],
            "account_id": [str(invited.id), UNKNOWN_ID],
            "proposal_id": [*proposal_ids, UNKNOWN_ID],
            **{kind: [*slugs_of, "finns-inte"] for kind, slugs_of in by_kind.items()},
        },
        queries={
            "guide": [{"challenge": c} for c in [*challenges, "finns-inte"]],
            "manage": [{"done": "cancelled"}],
        },
        by_route={
            **dict.fromkeys(("series", "series_received", "feed_series"), slugs_of(series_slugs)),
            "guide_example": slugs_of(by_kind["example"]),
            "guide_tip": slugs_of(by_kind["tip"]),
            "guide_process": slugs_of(by_kind["process"]),
            "guide_challenge": slugs_of(by_kind["challenge"]),
            **dict.fromkeys(("manage", "manage_ics", "cancel_confirm"), tokens_of(tokens)),
            **dict.fromkeys(("feed_personal", "feed_page"), tokens_of(feeds)),
            **dict.fromkeys(
                ("my_data_view", "my_data_download", "my_data_erase_confirm"),
                tokens_of(data_links),
            ),
            "organiser_set_password": tokens_of([invitation_token]),
        },
    )


@dataclass
class Target:
    """One route and the paths that request it."""

    name: str
    paths: list[str]
    fills_parameters: bool


def targets(routes: Sequence[BaseRoute], seeded: Seeded, prefix: str = "") -> Iterator[Target]:
    """Every GET route of the table with its paths; AssertionError for any it cannot fill."""
    for route in routes:
        if isinstance(route, Route):
            if "GET" not in (route.methods or set()):
                continue
            names = list(route.param_convertors)
            unfillable = [n for n in names if n not in seeded.samples]
            assert not unfillable, (
                f"GET {prefix}{route.path} has parameters {unfillable} this walk cannot fill: "
                "teach seed() in tests/web/test_reads_write_nothing.py what they name"
            )
            paths = []
            for values in itertools.product(*(seeded.values(route.name, n) for n in names)):
                filled = {n: quote(v, safe="") for n, v in zip(names, values, strict=True)}
                path = prefix + route.path_format.format(**filled)
                paths.append(path)
                paths += [
                    f"{path}?{httpx.QueryParams(q)}" for q in seeded.queries.get(route.name, [])
                ]
            yield Target(prefix + route.path, paths, fills_parameters=bool(names))
        elif isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            directory = Path(str(route.app.directory))
            files = sorted(p for p in directory.rglob("*") if p.is_file())
            assert files, f"nothing to request under {route.path}"
            paths = [f"{prefix}{route.path}/{p.relative_to(directory).as_posix()}" for p in files]
            yield Target(
                prefix + route.path, [*paths, f"{prefix}{route.path}/finns-inte.css"], True
            )
        elif isinstance(route, Mount) and route.routes:
            yield from targets(route.routes, seeded, prefix + route.path)
        else:
            raise AssertionError(f"{route!r}: a kind of route this walk does not know")


async def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the models declare, in primary-key order, but the audit
    log's records of reads (see `is_read_record`)."""
    rows = {}
    async with services.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            found = await session.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [
                tuple(row)
                for row in found
                if table.name != "audit_log" or row.action not in READ_ACTIONS
            ]
    return rows


def is_read_record(statement: str, parameters: Any) -> bool:
    """The one write a read may make: an audit entry saying who read attendees' personal
    data (organisers.attendees_workspace.READ_ACTIONS; GDPR art. 5(2), accountability)."""
    if not re.match(r"^\s*INSERT\s+INTO\s+\"?audit_log\b", statement, re.I):
        return False
    rows = parameters if isinstance(parameters, list) else [parameters]
    values = [v for row in rows for v in (row.values() if isinstance(row, dict) else row)]
    return any(isinstance(v, str) and v in READ_ACTIONS for v in values)


@dataclass
class Statements:
    """The writing statements the engine sent, with the request that sent each."""

    current: str = ""
    writes: list[tuple[str, str]] = field(default_factory=list)

    def record(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, *rest: Any
    ) -> None:
        if WRITES.match(statement) and not is_read_record(statement, parameters):
            self.writes.append((self.current, " ".join(statement.split())[:200]))


async def admin_session(services: Services) -> tuple[str, str]:
    """A signed session cookie of an admin and an access token of theirs for the organiser
    API, both made before the walk (signing in writes)."""
    now = utcnow()
    async with services.transaction() as session:
        admin = await accounts.add_organiser(
            session,
            email="admin@myndigheten.example.se",
            name="Admin",
            role="admin",
            password=None,
            now=now,
        )
        token = await organiser_sessions.start(session, admin, now)
        api_token = await organiser_tokens.create_token(session, admin, "Walk", now)
    return TimestampSigner(SECRET, salt=SALT).sign(token).decode(), api_token.secret


@pytest.fixture
async def seeded_client(services: Services) -> tuple[Services, Starlette, Seeded]:
    settings = dataclasses.replace(
        services.settings, mailbox_pages=True, metrics_token=METRICS_TOKEN
    )
    built = dataclasses.replace(services, settings=settings)
    seeded = await seed(built)
    return built, create_app(settings, built), seeded


def note_cookie(path: str, note: str = "person1@kommun.example.se") -> str:
    """The signed note a booking (or another form) leaves for its receipt page
    (foundation/flash.py)."""
    response = Response()
    flash.leave(response, note, path=path, secret_key=SECRET, secure=False)
    value = response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    return value


async def walk(
    client: httpx.AsyncClient, target_list: list[Target], statements: Statements, **headers: str
) -> dict[str, list[int]]:
    """Request every path with GET and HEAD (and again conditionally when an ETag came back)."""
    answers: dict[str, list[int]] = {}
    for target in target_list:
        for path in target.paths:
            for method in ("GET", "HEAD"):
                statements.current = f"{method} {path}"
                response = await client.request(method, path, headers=headers)
                answers.setdefault(target.name, []).append(response.status_code)
                assert response.status_code < 500, (statements.current, response.text[:500])
                validators = {
                    "if-none-match": response.headers.get("etag"),
                    "if-modified-since": response.headers.get("last-modified"),
                }
                conditional = {k: v for k, v in validators.items() if v}
                if method == "GET" and conditional:
                    statements.current = f"conditional GET {path}"
                    again = await client.get(path, headers={**headers, **conditional})
                    assert again.status_code in (200, 304), (statements.current, again.status_code)
    return answers


async def test_no_get_or_head_writes_anything(
    seeded_client: tuple[Services, Starlette, Seeded],
) -> None:
    services, app, seeded = seeded_client
    target_list = list(targets(app.routes, seeded))
    statements = Statements()
    admin_cookie, admin_token = await admin_session(services)
    before = await snapshot(services)
    assert all(before[t] for t in ("events", "registrations", "outbox_messages", "attendee_feeds"))
    event.listen(services.engine.sync_engine, "before_cursor_execute", statements.record)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as plain:
            answers = await walk(plain, target_list, statements)
        # Again as a returning visitor: English chosen, a receipt's note in the cookie.
        cookies = {LANGUAGE_COOKIE: "en", flash.COOKIE: note_cookie("/")}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as returning:
            again = await walk(returning, target_list, statements)
        # And as a signed-in admin: the organiser pages read, and write nothing either; with
        # the admin's access token, so does the organiser API.
        cookies = {"lk_organiser": admin_cookie}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as admin:
            signed_in = await walk(
                admin, target_list, statements, authorization=f"Bearer {admin_token}"
            )
        for target in [t for t in target_list if t.name in RECEIPT_NOTES]:
            cookies = {flash.COOKIE: note_cookie(target.name, RECEIPT_NOTES[target.name])}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", cookies=cookies
            ) as noted:
                again[target.name] += (await walk(noted, [target], statements))[target.name]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as scraper:
            metrics = [t for t in target_list if t.name == "/metrics"]
            scraped = await walk(
                scraper, metrics, statements, authorization=f"Bearer {METRICS_TOKEN}"
            )
            for name, codes in scraped.items():
                again[name] += codes
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", statements.record)
    after = await snapshot(services)

    assert statements.writes == [], "\n".join(f"{r}: {s}" for r, s in statements.writes)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [], f"GET requests changed the tables {changed}"
    for target in target_list:
        codes = answers[target.name] + again[target.name] + signed_in[target.name]
        assert any(c < 300 for c in codes), f"{target.name} never answered 2xx: {set(codes)}"
        if target.fills_parameters:
            assert 404 in codes, f"{target.name} never answered 404 to an unknown value"
