"""A person's own data from a mailed link (GDPR art. 15, 17, 20): asking, seeing, downloading
and erasing, with the erasure passing a future seat to the next in line."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from guide.proposal_models import GuideProposal
from guide.proposals import ProposalDraft, submit
from lunchkafe.app import create_app
from mail.models import MessageKind, OutboxMessage
from organisers.models import AuditEntry
from registrations.models import AttendeeFeed, Registration
from registrations.personal_data import (
    SALT,
    DataLinkExpired,
    DataLinkInvalid,
    _fingerprint,
    link_token,
    open_link,
)
from tests.conftest import SECRET, Mail
from tests.factories import address, book, csrf_in, make_event, outbox
from workers.retention import purge_expired

LINK = re.compile(r"http://testserver(/my-data/[A-Za-z0-9_.-]+)\?lang=(sv|en)")


@pytest.fixture
async def web(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the mailing services, so what a page queues reaches the SMTP server."""
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def ask_for_link(client: httpx.AsyncClient, email: str, lang: str = "sv") -> str:
    page = await client.get(f"/my-data?lang={lang}")
    answer = await client.post(
        "/my-data", data={"csrf_token": csrf_in(page.text), "email": email, "comment": ""}
    )
    assert answer.status_code == 200
    return answer.text


def mailed_link(mail: Mail, email: str) -> str:
    (message,) = [m for m in mail.to(email) if "uppgifter" in str(m["Subject"]).lower()]
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, "no link to the data in the mail"
    return found.group(1)


async def test_an_attendee_erases_themselves_and_the_next_in_line_gets_the_seat(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    services = mail.services
    event = await make_event(services, capacity=1, title="Kafé om bredband")
    over = await make_event(
        services,
        title="Kafé som varit",
        starts_at=utcnow() - timedelta(days=20),
        ends_at=utcnow() - timedelta(days=20, hours=-1),
    )
    await book(services, over.id, 1, now=over.starts_at - timedelta(days=1))
    await book(services, event.id, 1)  # the seat
    await book(services, event.id, 2)  # first in line
    async with services.transaction() as session:  # and shared an example with the guide
        await submit(
            session,
            ProposalDraft(
                title="Bredband i byarna",
                organisation="Exempelkommun",
                summary="Så gjorde vi.",
                body="",
                contact_name="Person 1",
                contact_email=address(1).upper(),
                language="sv",
            ),
            utcnow(),
        )
    await mail.deliver()
    mail.clear()

    stranger_sees = await ask_for_link(web, address(1))
    assert "Person 1" not in stranger_sees
    assert "bredband" not in stranger_sees
    await mail.deliver()
    path = mailed_link(mail, address(1))
    mail.clear()

    page = await web.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    for shown in (
        "Person 1",
        address(1),
        "Kafé om bredband",
        "Kafé som varit",
        "Bokningsbekräftelse",
        "Bredband i byarna",
    ):
        assert shown in page.text, shown
    assert "Person 2" not in page.text
    assert address(2) not in page.text

    download = await web.get(f"{path}/data.json")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["cache-control"] == "private, no-store"
    exported = json.loads(download.text)
    assert exported["email"] == address(1)
    assert sorted(r["event"]["title"] for r in exported["registrations"]) == [
        "Kafé om bredband",
        "Kafé som varit",
    ]
    assert {r["name"] for r in exported["registrations"]} == {"Person 1"}
    kinds = [m["kind"] for m in exported["messages"]]
    assert kinds.count("booking_confirmed") == 2
    assert "my_data_link" in kinds
    assert [p["title"] for p in exported["proposals"]] == ["Bredband i byarna"]
    assert all(m["status"] in ("sent", "pending", "sending") for m in exported["messages"])

    confirm = await web.get(f"{path}/erase")
    assert "Kafé om bredband" in confirm.text  # the booking it will cancel
    assert "Kafé som varit" not in confirm.text  # past: nothing to cancel
    erased = await web.post(f"{path}/erase", data={"csrf_token": csrf_in(confirm.text)})
    assert erased.status_code == 303
    assert erased.headers["location"] == "/my-data/erased"

    await mail.deliver()
    cancel = mail.only(address(1))
    assert "METHOD:CANCEL" in _calendar(cancel)
    promoted = mail.only(address(2))
    assert "METHOD:REQUEST" in _calendar(promoted)
    await purge_expired(services, now=utcnow())  # the worker's sweep, once the CANCEL went

    async with services.transaction() as session:
        rows = (await session.scalars(select(Registration))).all()
        held = [(r.name, r.email, r.email_normalised, r.organisation) for r in rows]
        messages = (await session.scalars(select(OutboxMessage))).all()
        entries = (await session.scalars(select(AuditEntry))).all()
        feeds = (await session.scalars(select(AttendeeFeed.email_normalised))).all()
        proposals = (await session.scalars(select(GuideProposal))).all()
    assert not any("person1" in str(h).lower() or "Person 1" in str(h) for h in held), held
    assert [r.status.value for r in rows if r.name == "Person 2"] == ["confirmed"]
    assert not any("person1" in f"{m.recipient}{m.payload}{m.last_error}".lower() for m in messages)
    assert address(1) not in feeds
    assert proposals == []  # waiting for a decision: theirs alone, deleted
    (entry,) = [e for e in entries if e.action == "person.erased_by_link"]
    assert entry.detail == {
        "registrations": 2,
        "bookings_cancelled": 1,
        "mails_skipped": 0,
        "proposals_erased": 1,
    }
    assert entry.actor == "system"
    assert entry.subject == ""

    again = await web.get(path)  # the link dies with the data
    assert again.status_code == 404
    assert "Länken fungerar inte" in again.text
    assert (await web.get(f"{path}/data.json")).status_code == 404


def _calendar(message: object) -> str:
    from email.message import EmailMessage

    assert isinstance(message, EmailMessage)
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return str(part.get_content())
    raise AssertionError("no calendar part")


async def test_someone_who_only_knows_an_address_gets_nothing(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    services = mail.services
    event = await make_event(services)
    await book(services, event.id, 1)
    known = await ask_for_link(web, address(1))
    unknown = await ask_for_link(web, "nobody@kommun.example.se")
    assert _main(known) == _main(unknown)
    assert "Om vi har uppgifter om adressen har vi skickat en länk" in known
    links = [m for m in await outbox(services) if m.kind == MessageKind.MY_DATA_LINK]
    assert [m.recipient for m in links] == [address(1)]

    for wrong in ("x", "A" * 43, "WzEsImFiYyJd.Zz.abc"):
        answer = await web.get(f"/my-data/{wrong}")
        assert answer.status_code == 404, wrong
        assert "Länken fungerar inte" in answer.text
    english = await web.get("/my-data/nonsense?lang=en")
    assert "The link does not work" in english.text

    async with services.transaction() as session:
        feed = await session.scalar(select(AttendeeFeed))
        assert feed is not None
        token = link_token(feed, SECRET)
        assert (await open_link(session, token, secret_key=SECRET, now=utcnow())).id == feed.id
        with pytest.raises(DataLinkExpired):
            await open_link(session, token, secret_key=SECRET, now=utcnow() + timedelta(hours=2))
        with pytest.raises(DataLinkInvalid):  # another site's key
            await open_link(session, link_token(feed, "another"), secret_key=SECRET, now=utcnow())
    expired = await web.get(f"/my-data/{token}")
    assert expired.status_code == 200  # within its hour


async def test_a_link_dated_in_the_future_does_not_open(mail: Mail, web: httpx.AsyncClient) -> None:
    """A token signed with our key but dated in the future (beyond a few minutes' clock skew)
    is invalid; one dated past any datetime (2**62) too, where it was a 500 (OverflowError)."""
    services = mail.services
    await book(services, (await make_event(services)).id, 1)
    async with services.transaction() as session:
        feed = await session.scalar(select(AttendeeFeed))
        assert feed is not None
        now = utcnow()

        def dated(at: int) -> str:
            class Dated(TimestampSigner):
                def get_timestamp(self) -> int:
                    return at

            serializer = URLSafeTimedSerializer(SECRET, salt=SALT, signer=Dated)
            return serializer.dumps([feed.id, _fingerprint(feed, SECRET)])

        soon = dated(int(now.timestamp()) + 60)  # within the clock skew
        assert (await open_link(session, soon, secret_key=SECRET, now=now)).id == feed.id
        for at in (int(now.timestamp()) + 3600, 2**62, 2**31 * 10**9):
            with pytest.raises(DataLinkInvalid):
                await open_link(session, dated(at), secret_key=SECRET, now=now)
    answer = await web.get(f"/my-data/{dated(2**62)}")
    assert answer.status_code == 404
    assert "Länken fungerar inte" in answer.text


def _main(page: str) -> str:
    """The page's main content without its CSRF token (new for each form)."""
    found = re.search(r"<main.*?</main>", page, re.S)
    assert found
    return found.group(0)


async def test_the_request_page_refuses_a_filled_trap_and_an_empty_address(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/my-data")
    token = csrf_in(page.text)
    trapped = await client.post(
        "/my-data", data={"csrf_token": token, "email": address(1), "comment": "spam"}
    )
    assert trapped.status_code == 422
    assert address(1) in trapped.text  # kept for sending again
    empty = await client.post("/my-data", data={"csrf_token": token, "email": " "})
    assert empty.status_code == 422
    assert "Skriv din e-postadress." in empty.text
    for odd in ("x@\x00y.se", "@", "a" * 400, "anna@exempel\u202e.se"):  # answered as any
        sent = await client.post("/my-data", data={"csrf_token": token, "email": odd})
        assert sent.status_code == 200, odd
        assert "Om vi har uppgifter om adressen" in sent.text
    forged = await client.post("/my-data", data={"csrf_token": "x", "email": address(1)})
    assert forged.status_code == 403
    assert await outbox(services) == []


async def test_a_fourth_link_within_the_hour_waits_and_the_form_keeps_the_address(
    client: httpx.AsyncClient, services: Services
) -> None:
    """Three links an hour per address (nobody floods an inbox with them), known or not; the
    fourth is a 429 with Retry-After on the form itself, the address still in it."""
    event = await make_event(services)
    await book(services, event.id, 1)
    for email in (address(1), "nobody@kommun.example.se"):
        page = await client.get("/my-data")
        for _ in range(3):
            sent = await client.post(
                "/my-data", data={"csrf_token": csrf_in(page.text), "email": email}
            )
            assert sent.status_code == 200
        held = await client.post(
            "/my-data", data={"csrf_token": csrf_in(page.text), "email": email}
        )
        assert held.status_code == 429
        assert int(held.headers["retry-after"]) > 0
        assert "För många förfrågningar på kort tid" in held.text
        assert f'value="{email}"' in held.text
    links = [m for m in await outbox(services) if m.kind == MessageKind.MY_DATA_LINK]
    assert len(links) == 3


async def test_the_data_link_mail_is_listed_and_exported_without_an_event(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    """The link's row hangs on the latest booking only so that erasure forgets it with the
    rest; it is about the person, so neither the page nor the export ties it to that event."""
    services = mail.services
    event = await make_event(services, title="Litet kafé: testplats")
    await book(services, event.id, 1)
    await ask_for_link(web, address(1))
    await mail.deliver()
    path = mailed_link(mail, address(1))

    page = await web.get(path)
    assert "Länk till dina uppgifter," in page.text
    assert "Länk till dina uppgifter: " not in page.text
    assert "Bokningsbekräftelse: " in page.text  # a booking's mail still names its event
    exported = json.loads((await web.get(f"{path}/data.json")).text)
    events = {m["kind"]: m["event_id"] for m in exported["messages"]}
    assert events == {"booking_confirmed": event.id, "my_data_link": None}

    confirm = await web.get(f"{path}/erase")  # and erasure still forgets it with the rest
    assert (await web.post(f"{path}/erase", data={"csrf_token": csrf_in(confirm.text)})).is_redirect
    await mail.deliver()  # the CANCEL for the upcoming seat, then the worker's sweep
    await purge_expired(services, now=utcnow())
    links = [m for m in await outbox(services) if m.kind == MessageKind.MY_DATA_LINK]
    assert len(links) == 1
    assert "person1" not in f"{links[0].recipient}{links[0].payload}".lower()
