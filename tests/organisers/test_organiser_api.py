"""The organiser API and its access tokens, and the audit log that records what it does."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from foundation.error_pages import domain_error
from foundation.errors import DomainError
from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from lunchkafe.cli import build_parser, run_command
from mail.models import MessageKind, OutboxMessage
from organisers import accounts, audit
from organisers.access import requires_token
from organisers.models import AccessToken, AuditEntry, Role
from tests.conftest import Mail
from tests.factories import SOON, book, csrf_in, make_event
from tests.signing_in import API, add, bearer, sign_in, text_of, token_for

ANNA = "anna@myndigheten.example.se"
BOSS = "boss@myndigheten.example.se"
NEW_TOKEN = re.compile(r'id="new-token"[^>]*value="([^"]+)"')


async def actions(services: Services) -> list[tuple[str, str]]:
    async with services.transaction() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.subject).order_by(AuditEntry.id)
        )
        return [(a, s) for a, s in rows.all()]


async def test_an_organiser_makes_a_token_sees_it_once_uses_it_and_revokes_it(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, ANNA)
    await sign_in(client, ANNA)
    page = await client.get("/organiser/tokens")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert "Du har inga åtkomstnycklar." in text_of(page)

    refused = await client.post(
        "/organiser/tokens", data={"csrf_token": csrf_in(page.text), "name": "  "}
    )
    assert refused.status_code == 422
    assert "Fältet får inte vara tomt." in text_of(refused)

    made = await client.post(
        "/organiser/tokens", data={"csrf_token": csrf_in(page.text), "name": "Intranätet"}
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "private, no-store"
    found = NEW_TOKEN.search(made.text)
    assert found, "the new token is shown"
    secret = unescape(found.group(1))
    assert "den visas bara den här gången" in text_of(made)

    events = await client.get(f"{API}/events", headers=bearer(secret))
    assert events.status_code == 200
    assert events.json() == {"events": []}

    # Later, only its name: the token itself is never shown again, nor stored.
    again = await client.get("/organiser/tokens")
    assert "Intranätet" in text_of(again)
    assert secret not in again.text
    async with services.transaction() as session:
        stored = (await session.scalars(select(AccessToken))).one()
        assert stored.token_hash != secret
        assert secret not in stored.token_hash
        assert stored.last_used_at is None  # a read marks nothing

    revoke = f"/organiser/tokens/{stored.id}/revoke"
    confirm = await client.post(revoke, data={"csrf_token": csrf_in(again.text)})
    assert confirm.status_code == 200
    assert "Ja, återkalla nyckeln" in text_of(confirm)
    assert (await client.get(f"{API}/events", headers=bearer(secret))).status_code == 200

    done = await client.post(revoke, data={"csrf_token": csrf_in(confirm.text), "confirm": "yes"})
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert "Nyckeln är återkallad" in text_of(after)
    assert "Intranätet" not in text_of(after)

    gone = await client.get(f"{API}/events", headers=bearer(secret))
    assert gone.status_code == 401
    assert gone.headers["www-authenticate"] == (
        'Bearer realm="lunchkafe-organiser", error="invalid_token"'
    )
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["code"] == "invalid_token"
    assert [a for a, _ in await actions(services)][-2:] == ["token.created", "token.revoked"]


async def test_a_token_from_the_command_line_is_printed_once_and_works(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, ANNA)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        args = build_parser().parse_args(["organisers", "token", ANNA, "--name", "Skript"])
        code = await run_command(services, args)
    assert code == 0, err.getvalue()
    secret = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    assert (await client.get(f"{API}/events", headers=bearer(secret))).status_code == 200

    with redirect_stdout(io.StringIO()), redirect_stderr(err := io.StringIO()):
        args = build_parser().parse_args(["organisers", "token", "ingen@x.se", "--name", "S"])
        assert await run_command(services, args) == 1
    assert "Kontot finns inte." in err.getvalue()


async def test_a_disabled_accounts_token_and_no_token_are_401_with_a_bearer_challenge(
    services: Services, client: httpx.AsyncClient
) -> None:
    anna = await add(services, ANNA)
    secret = await token_for(services, anna)
    assert (await client.get(f"{API}/events", headers=bearer(secret))).status_code == 200
    async with services.transaction() as session:
        await accounts.disable(session, await session.merge(anna), utcnow())
    refused = await client.get(f"{API}/events", headers=bearer(secret))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]

    missing = await client.get(f"{API}/events")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="lunchkafe-organiser"'
    # A signed-in browser's cookie opens nothing here.
    await add(services, BOSS, role="admin")
    await sign_in(client, BOSS)
    assert (await client.get(f"{API}/events")).status_code == 401
    assert (
        await client.get(f"{API}/events", headers={"authorization": "Basic eDp5"})
    ).status_code == 401


async def test_a_token_acts_with_its_owners_role(services: Services) -> None:
    anna = await add(services, ANNA)
    boss = await add(services, BOSS, role="admin")

    @requires_token(Role.ADMIN)
    async def admin_only(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[Route("/api/v1/organiser/admin", admin_only)],
        exception_handlers={DomainError: domain_error},
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        as_organiser = await c.get(
            "/api/v1/organiser/admin", headers=bearer(await token_for(services, anna))
        )
        as_admin = await c.get(
            "/api/v1/organiser/admin", headers=bearer(await token_for(services, boss))
        )
    assert as_organiser.status_code == 403
    assert 'error="insufficient_scope"' in as_organiser.headers["www-authenticate"]
    assert as_admin.status_code == 200


async def test_nobody_revokes_anothers_token(services: Services, client: httpx.AsyncClient) -> None:
    anna = await add(services, ANNA)
    await add(services, BOSS, role="admin")
    secret = await token_for(services, anna)
    async with services.transaction() as session:
        token_id = (await session.scalars(select(AccessToken.id))).one()
    await sign_in(client, BOSS)
    page = await client.get("/organiser/tokens")
    refused = await client.post(
        f"/organiser/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_in(page.text), "confirm": "yes"},
    )
    assert refused.status_code == 404
    assert (await client.get(f"{API}/events", headers=bearer(secret))).status_code == 200


async def test_guessing_tokens_is_held_back(services: Services, client: httpx.AsyncClient) -> None:
    anna = await add(services, ANNA)
    secret = await token_for(services, anna)
    guesses = [await client.get(f"{API}/events", headers=bearer(f"{n:043d}")) for n in range(20)]
    assert {g.status_code for g in guesses} == {401}
    held = await client.get(f"{API}/events", headers=bearer("x" * 43))
    assert held.status_code == 429
    assert int(held.headers["retry-after"]) > 0
    # Over the limit the client is held back whatever it sends, a good token too.
    assert (await client.get(f"{API}/events", headers=bearer(secret))).status_code == 429


def later(days: int, hours: int = 0) -> str:
    return (SOON + timedelta(days=days, hours=hours)).isoformat()


async def test_events_are_created_changed_published_and_cancelled(
    services: Services, client: httpx.AsyncClient
) -> None:
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    created = await client.post(
        f"{API}/events",
        headers=auth,
        json={
            "title": "Lunchkafé om bredband",
            "starts_at": later(1),
            "ends_at": later(1, 1),
            "capacity": 1,
            "join_url": "https://meet.example.se/rum",
        },
    )
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["status"] == "draft"
    assert event["join_url"] == "https://meet.example.se/rum"
    assert event["starts_at"].endswith("+01:00") or event["starts_at"].endswith("+02:00")
    event_id = event["id"]
    assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 404  # not public

    listed = await client.get(f"{API}/events", headers=auth)
    assert [e["id"] for e in listed.json()["events"]] == [event_id]
    one = await client.get(f"{API}/events/{event_id}", headers=auth)
    assert one.json() == event
    assert one.headers["cache-control"] == "private, no-store"

    published = await client.patch(
        f"{API}/events/{event_id}", headers=auth, json={"status": "published"}
    )
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 200

    await book(services, event_id, 1)
    await book(services, event_id, 2)  # waiting: one seat
    people = (await client.get(f"{API}/events/{event_id}/registrations", headers=auth)).json()
    assert people == {
        "registrations": [
            {
                "name": "Person 1",
                "email": "person1@kommun.example.se",
                "organisation": "Exempelkommun",
                "municipality": "",
                "status": "confirmed",
                "waitlist_position": None,
                "checked_in": False,
            },
            {
                "name": "Person 2",
                "email": "person2@kommun.example.se",
                "organisation": "Exempelkommun",
                "municipality": "",
                "status": "waitlisted",
                "waitlist_position": 1,
                "checked_in": False,
            },
        ]
    }

    moved = await client.patch(
        f"{API}/events/{event_id}",
        headers=auth,
        json={"starts_at": later(2), "capacity": 2},
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["confirmed"], body["waitlisted"], body["capacity"]) == (2, 0, 2)
    assert (
        body["ends_at"]
        == (SOON + timedelta(days=2, hours=1))
        .astimezone(datetime.fromisoformat(body["ends_at"]).tzinfo)
        .isoformat()
    )
    kinds = await kinds_queued(services)
    assert kinds.count(MessageKind.EVENT_CHANGED) == 1  # the one confirmed before the move
    assert kinds.count(MessageKind.PROMOTED) == 1

    cancelled = await client.post(
        f"{API}/events/{event_id}/cancel", headers=auth, json={"reason": "Talaren är sjuk."}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (await kinds_queued(services)).count(MessageKind.EVENT_CANCELLED) == 2
    again = await client.post(f"{API}/events/{event_id}/cancel", headers=auth, json={})
    assert again.status_code == 409  # once is enough; logged once (below)

    logged = [a for a, s in await actions(services) if s == f"event:{event_id}"]
    assert logged == [
        "event.created",
        "event.published",
        "attendees.viewed",  # reading the list through the API is accountable too
        "event.changed",
        "event.cancelled",
    ]
    async with services.transaction() as session:
        stored = (await session.scalars(select(AccessToken))).one()
        assert stored.last_used_at is not None  # the writes marked it
        details = [e.detail for e in await session.scalars(select(AuditEntry))]
    assert "Talaren" not in str(details)
    assert "person1" not in str(details)


async def kinds_queued(services: Services) -> list[MessageKind]:
    async with services.transaction() as session:
        return list(await session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


async def test_what_the_api_refuses(services: Services, client: httpx.AsyncClient) -> None:
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    event = await make_event(services, capacity=5)
    draft = await make_event(services, publish=False)
    await book(services, event.id, 1)
    await book(services, event.id, 2)

    bad = await client.post(
        f"{API}/events",
        headers=auth,
        json={"title": 5, "starts_at": "i morgon", "ends_at": later(1), "capacity": "5"},
    )
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"title", "starts_at", "capacity"}
    past = await client.post(
        f"{API}/events",
        headers=auth,
        json={
            "title": "Förr",
            "starts_at": "2020-01-01T12:00:00+01:00",
            "ends_at": "2020-01-01T13:00:00+01:00",
            "capacity": 5,
        },
    )
    assert past.status_code == 422
    assert "starts_at" in past.json()["fields"]
    below = await client.patch(f"{API}/events/{event.id}", headers=auth, json={"capacity": 1})
    assert below.status_code == 422
    assert "capacity" in below.json()["fields"]
    assert (await client.get(f"{API}/events/2147483647", headers=auth)).status_code == 404
    missing = await client.patch(f"{API}/events/2147483647", headers=auth, json={"title": "x"})
    assert missing.status_code == 404
    assert (
        await client.post(f"{API}/events/{draft.id}/cancel", headers=auth, json={})
    ).status_code == 409
    to_draft = await client.post(
        f"{API}/events/{draft.id}/messages",
        headers=auth,
        json={"subject": "Hej", "body": "Välkomna", "to": "all"},
    )
    assert to_draft.status_code == 409
    wrong_to = await client.post(
        f"{API}/events/{event.id}/messages",
        headers=auth,
        json={"subject": "Hej", "body": "Välkomna", "to": "alla"},
    )
    assert wrong_to.status_code == 422
    assert (await client.get(f"{API}/sends/2147483647", headers=auth)).status_code == 404
    not_json = await client.post(
        f"{API}/events/{event.id}/cancel", headers=auth, content=b"reason=x"
    )
    assert not_json.status_code == 415
    # Nothing of that changed the event or wrote to anyone.
    async with services.transaction() as session:
        entries = list(await session.scalars(select(AuditEntry.action)))
    assert entries == ["account.added", "token.created"]
    assert set(await kinds_queued(services)) <= {MessageKind.BOOKING_CONFIRMED}


async def test_the_organiser_api_sends_no_cors_headers(
    services: Services, client: httpx.AsyncClient
) -> None:
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    event = await make_event(services)
    origin = {"origin": "https://annan.example.se"}
    for path in (f"{API}/events", f"{API}/events/{event.id}/registrations"):
        answer = await client.get(path, headers={**auth, **origin})
        assert answer.status_code == 200
        assert not [h for h in answer.headers if h.startswith("access-control-")]
        assert answer.headers["cache-control"] == "private, no-store"
        preflight = await client.options(
            path, headers={**origin, "access-control-request-method": "GET"}
        )
        assert preflight.status_code == 405
        assert not [h for h in preflight.headers if h.startswith("access-control-")]
    # The public read next to it still does.
    public = await client.get(f"/api/v1/events/{event.id}", headers=origin)
    assert public.headers["access-control-allow-origin"] == "*"


async def test_a_message_is_queued_and_its_progress_read_as_it_goes_out(
    services: Services, mail: Mail
) -> None:
    anna = await add(services, ANNA)
    auth = bearer(await token_for(services, anna))
    event = await make_event(services, capacity=1)
    await book(services, event.id, 1)
    await book(services, event.id, 2)
    await mail.deliver()
    mail.clear()
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        sent = await client.post(
            f"{API}/events/{event.id}/messages",
            headers=auth,
            json={"subject": "Program för kaféet", "body": "Hej!\n\nVi ses.", "to": "all"},
        )
        assert sent.status_code == 202, sent.text
        send_id = sent.json()["send_id"]
        assert sent.json()["progress"] == f"http://testserver{API}/sends/{send_id}"
        before = await client.get(f"{API}/sends/{send_id}", headers=auth)
        assert before.json() == {"queued": 2, "sent": 0, "failed": 0, "skipped": 0}
        await mail.deliver()
        after = await client.get(f"{API}/sends/{send_id}", headers=auth)
        assert after.json() == {"queued": 0, "sent": 2, "failed": 0, "skipped": 0}
    for n in (1, 2):
        got = mail.only(f"person{n}@kommun.example.se")
        assert "Program för kaféet" in str(got["Subject"])
    logged = await actions(services)
    assert logged[-1] == ("message.sent", f"event:{event.id}")


async def entries_at(services: Services, count: int, action: str, at: datetime) -> None:
    async with services.transaction() as session:
        for n in range(count):
            await audit.record(session, None, action, f"event:{n}", now=at, n=n)


async def test_admins_page_through_the_audit_log_newest_first_in_swedish_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, BOSS, role="admin")
    winter = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)  # 12.00 in Stockholm
    await entries_at(services, 120, "event.published", winter)
    await entries_at(services, 3, "attendees.exported", winter + timedelta(hours=1))
    await sign_in(client, BOSS)

    first = await client.get("/organiser/audit")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-store"
    rows = re.findall(r"<tr>\s*<th scope=\"row\">", first.text)
    assert len(rows) == 100
    shown = text_of(first)
    table = shown[shown.index("Detaljer") :]
    # Newest first: the sign-in, then the exports at 13.00, then the publications at 12.00.
    assert (
        table.index("loggade in")
        < table.index("exporterade deltagarlistan")
        < table.index("publicerade")
    )
    assert "torsdag 15 januari 2026 kl. 13.00" in shown
    assert "Systemet eller kommandoraden" in shown
    older = re.search(r'href="([^"]*before=[0-9]+[^"]*)"[^>]*>Äldre händelser', first.text)
    assert older, "a link to older entries"
    second = await client.get(unescape(older.group(1)))
    rows = re.findall(r"<tr>\s*<th scope=\"row\">", second.text)
    assert len(rows) == 125 - 100  # the account, 123 entries, the sign-in
    assert "Äldre händelser" not in text_of(second)
    assert "Till de nyaste" in text_of(second)

    only = await client.get("/organiser/audit", params={"action": "attendees.exported"})
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">", only.text)) == 3
    only_table = text_of(only)[text_of(only).index("Detaljer") :]
    assert "exporterade deltagarlistan" in only_table
    assert "publicerade" not in only_table
    assert (await client.get("/organiser/audit?before=abc")).status_code == 200


async def test_an_organiser_cannot_open_the_audit_log(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, ANNA)
    await sign_in(client, ANNA)
    assert (await client.get("/organiser/audit")).status_code == 403
    assert "Händelselogg" not in text_of(await client.get("/organiser/tokens"))
    assert (await client.get("/organiser/tokens")).status_code == 200
