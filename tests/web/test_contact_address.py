"""Whom to write to, and whom mail comes from: every page and mail that tells someone whom to
contact names the agency's contact address (AGENCY_EMAIL, the footer's), and "look for mail
from" names the address mail is really sent from (MAIL_FROM). Unset, MAIL_FROM and
ORGANISER_EMAIL are the agency's address, so the demo names one address throughout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from foundation.settings import DEMO_AGENCY_EMAIL
from foundation.timestamps import utcnow
from guide.proposal_models import GuideProposal
from guide.proposals import reject
from lunchkafe.app import create_app
from tests.conftest import Mail, MailFactory, make_settings
from tests.factories import csrf_of, make_event
from tests.guide_proposals import vera_proposes
from tests.signing_in import text_of

SENDER = "utskick@kommun.example.se"  # MAIL_FROM: may be a mailbox nobody reads
INVITES = "kalender@kommun.example.se"  # ORGANISER_EMAIL: the invitations' ORGANIZER
CONTACT = "kontakt@kommun.example.se"  # AGENCY_EMAIL: the one address to write to
APART = {"MAIL_FROM": f"Lunchkafé <{SENDER}>", "ORGANISER_EMAIL": INVITES, "AGENCY_EMAIL": CONTACT}


def test_mail_comes_from_the_contact_address_unless_set_otherwise(tmp_path: Path) -> None:
    demo = make_settings("sqlite://", tmp_path)
    assert parseaddr(demo.mail_from) == ("Lunchkafé", DEMO_AGENCY_EMAIL)
    assert demo.organiser_email == DEMO_AGENCY_EMAIL

    own = make_settings("sqlite://", tmp_path, AGENCY_EMAIL=CONTACT, SITE_NAME="Kafé, Län")
    assert parseaddr(own.mail_from) == ("Kafé, Län", CONTACT)
    assert own.organiser_email == CONTACT

    apart = make_settings("sqlite://", tmp_path, **APART)
    assert apart.mail_from == f"Lunchkafé <{SENDER}>"
    assert apart.organiser_email == INVITES


def main_of(html: str) -> str:
    return html.partition('<main id="main"')[2].partition("</main>")[0]


@pytest.fixture
async def apart(mail_factory: MailFactory) -> AsyncIterator[tuple[Mail, httpx.AsyncClient]]:
    mail = mail_factory(**APART)
    app = create_app(mail.services.settings, mail.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield mail, client


async def test_the_booking_receipt_names_the_sender_and_the_contact_address(
    apart: tuple[Mail, httpx.AsyncClient],
) -> None:
    mail, client = apart
    event = await make_event(mail.services)
    path = f"/events/{event.id}"
    form = {
        "csrf_token": await csrf_of(client, path),
        "name": "Anna Andersson",
        "email": "anna.andersson@kommun.example.se",
        "organisation": "",
        "municipality": "",
        "consent": "yes",
    }
    booked = await client.post(f"{path}/book", data=form)
    assert booked.status_code == 303
    for lang in ("sv", "en"):
        page = await client.get(f"{path}/received?lang={lang}")
        shown = main_of(page.text)
        assert SENDER in shown, lang  # the spam folder holds mail from this address
        assert f'<a href="mailto:{CONTACT}">{CONTACT}</a>' in shown, lang
        assert INVITES not in page.text, lang
    assert "Titta i skräpposten efter mejl från utskick@kommun.example.se" in text_of(
        await client.get(f"{path}/received?lang=sv")
    )


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    return str(plain.get_content()), str(html.get_content())


async def test_a_proposers_answer_says_to_write_to_the_contact_address(
    apart: tuple[Mail, httpx.AsyncClient],
) -> None:
    mail = apart[0]
    services = mail.services
    await vera_proposes(services)
    async with services.transaction() as session:
        (proposal,) = (await session.scalars(select(GuideProposal))).all()
        await reject(session, proposal.id, note="Inte för guiden.", now=utcnow())
    await mail.deliver()
    told = mail.only("vera.delare@example.org")
    text, html = parts(told)
    assert f"Frågor? Skriv till {CONTACT}." in text
    assert f'href="mailto:{CONTACT}"' in html
    assert INVITES not in text + html
    assert "Svara på det här mejlet" not in text  # a reply goes to MAIL_FROM, maybe unread
