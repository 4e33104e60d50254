"""Every header of every kind of mail decodes to exactly what was written (mail/headers.py).

Issue 10 item 2: a reminder for "Förenkling för företag: en väg in" arrived as "…: enväg in":
Python's folding split the long Subject into two encoded words with the space between them,
where every reader drops it (RFC 2047 §6.2). Whether it happened depended on the length of the
title. Here each kind of mail the notices package composes is composed by its own code, for
titles, names and site names of many lengths with å/ä/ö, emoji and punctuation, written as the
relay gets it (policy.SMTP, and policy.SMTPUTF8) and read back with the standard library.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from foundation.services import Services
from foundation.text import neutral_line
from foundation.timestamps import utcnow
from mail import headers
from mail.models import MessageKind, OrganiserSend, OutboxMessage
from notices import account_mail, compose
from organisers import password_links
from tests.conftest import SECRET
from tests.factories import book, make_event

ISSUE_TITLE = "Förenkling för företag: en väg in"
_PARSER = BytesParser(policy=policy.default)
POLICIES = [policy.SMTP, policy.SMTPUTF8]
# Every kind an attendee gets, each with the payload its rows carry.
ATTENDEE_KINDS: dict[MessageKind, dict[str, Any]] = {
    MessageKind.BOOKING_CONFIRMED: {},
    MessageKind.WAITLISTED: {},
    MessageKind.PROMOTED: {},
    MessageKind.REMINDER: {"offset": 60},
    MessageKind.EVENT_CHANGED: {},
    MessageKind.EVENT_CANCELLED: {"was_confirmed": True},
    MessageKind.REGISTRATION_CANCELLED: {"was_confirmed": True},
    MessageKind.ORGANISER_MESSAGE: {},
    MessageKind.FOLLOW_UP: {},
    MessageKind.FEED_REPLACED: {},
}

# Words as titles and names have them: Swedish letters, emoji, punctuation, long compounds.
_WORD = st.text(
    st.sampled_from("aäåöeiouÅÄÖnrstlkmgé😀🎉–—:;,.!?&()\"'/«»0123456789"),
    min_size=1,
    max_size=24,
)
TEXTS = st.lists(_WORD, min_size=1, max_size=30).map(" ".join).filter(lambda t: len(t) <= 200)


def spec(address: Address) -> str:
    # RFC 6532 addresses come back from Python's parser as surrogate escapes; undo that.
    return str(address.addr_spec).encode("utf-8", "surrogateescape").decode("utf-8")


def assert_reads_as_written(message: EmailMessage) -> None:
    """Written with each policy and parsed back, every header reads as the one set."""
    for wire in POLICIES:
        raw = message.as_bytes(policy=wire)
        back = _PARSER.parsebytes(raw)
        assert str(back["Subject"]) == str(message["Subject"]), wire
        for name in ("From", "To"):
            (written,) = message[name].addresses
            (read,) = back[name].addresses
            assert read.display_name == written.display_name, (name, wire)
            assert spec(read) == written.addr_spec, (name, wire)
        assert back.defects == []


@dataclasses.dataclass
class Drafts:
    attendee: list[compose.Draft]
    account: account_mail.AccountDraft


async def drafts_of_every_kind(services: Services) -> Drafts:
    """One draft per kind, loaded by the composers' own loaders from real rows."""
    now = utcnow()
    event = await make_event(services)
    await book(services, event.id, 1)
    async with services.transaction() as session:
        organiser = await password_links.add_with_invitation(
            session,
            email="maria.malm@kommun.example.se",
            name="Maria Malm",
            role="organiser",
            secret_key=SECRET,
            now=now,
        )
    async with services.transaction() as session:
        rows = list((await session.scalars(select(OutboxMessage))).all())
        booked = [r for r in rows if r.kind == MessageKind.BOOKING_CONFIRMED]
        invited = [r for r in rows if r.kind in account_mail.KINDS]
        [(_, draft, _)] = await compose.load_drafts(session, booked, services.settings, now)
        [(_, account, _)] = await account_mail.load_drafts(
            session, invited, services.settings, now + timedelta(seconds=1)
        )
    assert draft is not None, organiser.id
    assert account is not None
    attendee = [
        dataclasses.replace(
            draft,
            row=OutboxMessage(id=draft.row.id, kind=kind, payload=payload),
            send=OrganiserSend(subject="", body="Hej!"),
            position=3,
        )
        for kind, payload in ATTENDEE_KINDS.items()
    ]
    return Drafts(attendee, account)


@pytest.fixture
async def every_kind(services: Services) -> Drafts:
    """One mail of every kind, built once per run of a test (per database) and shared by its
    hypothesis examples, which function-scoped fixtures are set up once for."""
    return await drafts_of_every_kind(services)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=TEXTS, name=TEXTS, site=TEXTS)
@example(title=ISSUE_TITLE, name="Maria Malm", site="Lunchkafé")
@example(title=f"{ISSUE_TITLE} – del två 😀", name="Åsa-Britt Öhrström", site="Lunchkafé")
async def test_every_kind_of_mail_reads_back_as_written(
    services: Services, every_kind: Drafts, title: str, name: str, site: str
) -> None:
    drafts = every_kind
    site_settings = dataclasses.replace(
        services.settings,
        site_name=site,
        mail_from=str(Address(display_name=site, addr_spec="lunchkafe@kommun.example.se")),
    )
    now = utcnow()
    for draft in drafts.attendee:
        draft.event.title = title
        draft.registration.name = name
        assert draft.send is not None
        draft.send.subject = title
        message = compose.render(draft, site_settings, now)
        assert neutral_line(title) in str(message["Subject"]) or draft.row.kind in {
            MessageKind.FEED_REPLACED
        }
        assert message["To"].addresses[0].display_name == neutral_line(name)
        assert message["From"].addresses[0].display_name == site
        assert_reads_as_written(message)

    drafts.account.link.organiser.name = name
    account = account_mail.render(drafts.account, site_settings, now)
    assert site in str(account["Subject"])
    assert account["To"].addresses[0].display_name == neutral_line(name)
    assert_reads_as_written(account)


@pytest.mark.parametrize("wire", POLICIES, ids=["smtp", "smtputf8"])
@given(subject=st.text(max_size=300), name=st.text(max_size=120))
@settings(max_examples=300, deadline=None)
@example(subject=f"Påminnelse: {ISSUE_TITLE}, onsdag 16 december kl. 12.00–13.00", name="Åsa")
@example(subject="x" * 120, name="y" * 90)
@example(subject="=?utf-8?q?a?= b", name="=?utf-8?q?a?=")
def test_any_subject_and_display_name_read_back_as_written(
    wire: policy.EmailPolicy, subject: str, name: str
) -> None:
    """The rule alone, over any text: whatever neutral_line leaves is read back unchanged."""
    message = EmailMessage(policy=headers.POLICY)
    message["Subject"] = headers.subject(subject)
    message["To"] = headers.mailbox(name, "anna@räksmörgås.se")
    message.set_content("Hej")
    headers.verify_headers(message)
    back = _PARSER.parsebytes(message.as_bytes(policy=wire))
    assert str(back["Subject"]) == neutral_line(subject)
    (to,) = back["To"].addresses
    assert to.display_name == neutral_line(name)
    assert spec(to) == ("anna@räksmörgås.se" if wire.utf8 else "anna@xn--rksmrgs-5wao1o.se")
    for line in message.as_bytes(policy=wire).split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert len(line) <= 998


async def test_every_kind_of_mail_names_who_runs_the_service(
    services: Services, every_kind: Drafts
) -> None:
    """Each mail's footer names the agency, its contact and the privacy and accessibility
    pages (issue 13), whatever footer of its own the kind has, in the mail's language."""
    agency = dataclasses.replace(
        services.settings,
        agency_name="Länsstyrelsen i Exempellän",
        agency_email="kontakt@lansstyrelsen.example.se",
        partner_network="",
        base_url="https://lunchkafe.example.se",
    )
    now = utcnow()
    messages = [compose.render(draft, agency, now) for draft in every_kind.attendee]
    messages.append(account_mail.render(every_kind.account, agency, now))
    assert len(messages) == len(ATTENDEE_KINDS) + 1
    for message in messages:
        for kind in ("plain", "html"):
            body = message.get_body((kind,))
            assert body is not None
            content = body.get_content()
            assert "Lunchkafé drivs av Länsstyrelsen i Exempellän." in content, message["Subject"]
            assert "kontakt@lansstyrelsen.example.se" in content
            for page in ("about", "privacy", "accessibility"):
                assert f"https://lunchkafe.example.se/{page}?lang=sv" in content, (kind, page)
    english = dataclasses.replace(every_kind.attendee[0])
    english.registration.language = "en"
    text = compose.render(english, agency, now).get_body(("plain",))
    assert text is not None
    assert "Lunchkafé is run by Länsstyrelsen i Exempellän." in text.get_content()
    assert "https://lunchkafe.example.se/privacy?lang=en" in text.get_content()
