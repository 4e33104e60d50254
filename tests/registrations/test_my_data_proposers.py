"""Someone who shared an example with the guide but never booked has the same rights as an
attendee (GDPR art. 15, 17): /my-data mails them a link to what is kept about them, and
erasing from it removes their proposal and every mail's record of their address."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from foundation.timestamps import utcnow
from guide.proposal_models import GuideProposal
from guide.proposals import ProposalDraft, submit
from lunchkafe.app import create_app
from mail.models import OutboxMessage
from registrations.models import AttendeeFeed
from tests.conftest import Mail
from tests.factories import csrf_in

PROPOSER = "vera.delare@example.org"
LINK = re.compile(r"http://testserver(/my-data/[A-Za-z0-9_.-]+)\?lang=sv")


@pytest.fixture
async def web(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_a_proposer_who_never_booked_gets_a_link_and_erases_themselves(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    services = mail.services
    async with services.transaction() as session:
        await submit(
            session,
            ProposalDraft(
                title="Bredband i byarna",
                organisation="Exempelkommun",
                summary="Så gjorde vi.",
                body="",
                contact_name="Vera Delare",
                contact_email="Vera.Delare@Example.org",
                language="sv",
            ),
            utcnow(),
        )
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
    path = found.group(1)

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
