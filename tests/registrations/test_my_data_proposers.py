"""Someone who shared an example with the guide but never booked has the same rights as an
attendee (GDPR art. 15, 17): /my-data mails them a link to what is kept about them, and
erasing from it removes their proposal and every mail's record of their address."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from foundation.timestamps import utcnow
from guide.proposal_models import GuideProposal
from guide.proposals import reject
from lunchkafe.app import create_app
from mail.models import OutboxMessage
from registrations.models import AttendeeFeed
from tests.conftest import Mail
from tests.factories import book, csrf_in, make_event
from tests.guide_proposals import vera_proposes
from workers.retention import purge_expired

PROPOSER = "vera.delare@example.org"
LINK = re.compile(r"http://testserver(/my-data/[A-Za-z0-9_.-]+)\?lang=sv")


@pytest.fixture
async def web(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _mailed_link(mail: Mail, web: httpx.AsyncClient) -> str:
    """Vera proposes an example, asks /my-data for a link and gets it by mail: its path."""
    await vera_proposes(mail.services, "Vera.Delare@Example.org")
    form = await web.get("/my-data")
    answer = await web.post(
        "/my-data", data={"csrf_token": csrf_in(form.text), "email": PROPOSER, "comment": ""}
    )
    assert answer.status_code == 200
    assert "Bredband" not in answer.text  # the page shows nothing; the mail carries the link
    await mail.deliver()
    (message,) = mail.to("Vera.Delare@Example.org")
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, "no link to the data in the mail"
    return found.group(1)


async def test_a_proposer_who_never_booked_gets_a_link_and_erases_themselves(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    services = mail.services
    path = await _mailed_link(mail, web)

    page = await web.get(path)
    assert page.status_code == 200
    assert "Bredband i byarna" in page.text

    confirm = await web.get(f"{path}/erase")
    erased = await web.post(f"{path}/erase", data={"csrf_token": csrf_in(confirm.text)})
    assert erased.status_code == 303
    async with services.reading() as session:
        proposals = (await session.scalars(select(GuideProposal))).all()
        messages = (await session.scalars(select(OutboxMessage))).all()
        feeds = (await session.scalars(select(AttendeeFeed))).all()
    assert proposals == []
    assert feeds == []
    assert not any("vera" in f"{m.recipient}{m.payload}{m.last_error}".lower() for m in messages)
    assert (await web.get(path)).status_code == 404


async def test_a_proposers_link_outlives_the_sweep_of_others_old_bookings(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    """The retention sweep deletes the feeds of addresses it has just anonymised, not a
    proposer's, whose only hold is a proposal: their mailed link keeps working its hour."""
    services = mail.services
    path = await _mailed_link(mail, web)
    long_ago = utcnow() - timedelta(days=services.settings.retention_days + 30)
    old = await make_event(
        services, starts_at=long_ago, ends_at=long_ago + timedelta(hours=1), title="Förr"
    )
    await book(services, old.id, 1, now=long_ago - timedelta(days=1))
    assert (await purge_expired(services, now=utcnow())).registrations == 1

    page = await web.get(path)
    assert page.status_code == 200
    assert "Bredband i byarna" in page.text


async def test_a_proposer_sees_and_downloads_every_mail_sent_to_them(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    """GDPR art. 15: every message sent to the person, a proposer's too, whose mails (the
    organiser's decision, the data link) hang on no booking."""
    services = mail.services
    path = await _mailed_link(mail, web)
    async with services.transaction() as session:
        (proposal,) = (await session.scalars(select(GuideProposal))).all()
        proposal_id = proposal.id
    async with services.transaction() as session:
        await reject(session, proposal_id, note="Inte för guiden.", now=utcnow())
    await mail.deliver()

    page = await web.get(path)
    assert "Länk till dina uppgifter" in page.text
    assert "Förslaget till guiden avböjt" in page.text
    exported = json.loads((await web.get(f"{path}/data.json")).text)
    assert sorted(m["kind"] for m in exported["messages"]) == [
        "my_data_link",
        "proposal_rejected",
    ]


async def test_a_proposer_is_told_what_erasing_does_to_what_they_have(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    """No bookings: nothing about cancelling bookings or a personal calendar, but what
    becomes of their proposals; the mail with the link promises no bookings either."""
    path = await _mailed_link(mail, web)
    (message,) = mail.to("Vera.Delare@Example.org")
    body = message.get_body(("plain",))
    assert body is not None
    assert "dina bokningar" not in body.get_content()

    for shown in ((await web.get(path)).text, (await web.get(f"{path}/erase")).text):
        erase = shown.partition('id="erase-title"')[2] or shown.partition("<main")[2]
        assert "avbokas" not in erase
        assert "personliga kalender" not in erase
    confirm = (await web.get(f"{path}/erase")).text
    assert "Dina förslag till Utvecklingsguiden som inte har publicerats raderas." in confirm
    assert "Din e-postadress raderas från mejlen vi har skickat till dig." in confirm
