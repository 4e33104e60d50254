"""Whatever a person typed never becomes a mail header or an iCalendar parameter.

The door (foundation.text) refuses encoded words and controls, but mail is composed from what
the database holds, which may predate the rule. So these tests store the attack directly,
bypassing validation, deliver through a real SMTP server (aiosmtpd on loopback), and read the
raw header block back as the receiving server sees it: no Reply-To, Bcc or X-Injected, one of
each header the mail should have, and a display name that decodes to something harmless.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import update

from events.models import Event
from foundation.text import neutral_line
from mail import headers
from mail.models import Audience, OrganiserSend
from notices.delivery import DeliveryReport
from registrations.attendee import validate_attendee
from registrations.errors import InvalidAttendee
from registrations.messaging import send_message
from registrations.models import Registration
from tests.conftest import Mail
from tests.factories import book, make_event, person

ISSUE_NAME = "=?utf-8?q?Support=0D=0AReply-To=3A_attacker=40evil.example=0D=0AX-Injected=3A_yes?="
ATTACKS = [
    pytest.param(ISSUE_NAME, id="issue-reply-to"),
    pytest.param("=?utf-8?b?U3VwcG9ydA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?=", id="bcc-base64"),
    pytest.param("=?utf-8?q?a b=0D=0AX-Injected:=20yes?=", id="space-inside-word"),
    pytest.param("Anna =?utf-8?q?x=0D=0ABcc:_x@evil.example?= Berg", id="bcc-mid-name"),
    pytest.param("Anna\r\nBcc: x@evil.example", id="raw-crlf"),
    pytest.param('Anna" <x@evil.example>, "Bo', id="quote-break"),
    pytest.param("Anna\x00Berg\x1b\u202e", id="nul-esc-rlo"),
]
# What every mail has once, and what no mail of ours has at all.
ONCE = ["Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted", "MIME-Version"]
NEVER = {"reply-to", "bcc", "cc", "x-injected", "sender"}
_PARSER = BytesParser(policy=policy.default)


def header_names(raw: bytes) -> list[str]:
    """Header names of the top-level header block, read as a receiving MTA reads it."""
    block = raw.split(b"\r\n\r\n", 1)[0]
    return [
        line.split(b":", 1)[0].decode("ascii", "replace")
        for line in block.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    ]


def assert_one_header_each(raw: bytes) -> EmailMessage:
    names = header_names(raw)
    assert not NEVER & {n.lower() for n in names}, names
    for name in ONCE:
        assert [n.lower() for n in names].count(name.lower()) == 1, (name, names)
    assert set(names) <= {*ONCE, "Content-Type"}, names
    message = _PARSER.parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def harmless(text: str) -> bool:
    return not any(ord(c) < 0x20 or ord(c) == 0x7F or c in "\u202e\u2066" for c in text)


def attendee_cn(message: EmailMessage) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert b"\x00" not in payload
    assert b"\x1b" not in payload
    (event,) = Calendar.from_ical(payload).walk("VEVENT")
    return str(event["ATTENDEE"].params["CN"])


async def store_raw(mail: Mail, registration_id: int, **values: str) -> None:
    """Write straight to the table, as rows from before the rule (or another writer) would be."""
    async with mail.services.transaction() as session:
        await session.execute(
            update(Registration).where(Registration.id == registration_id).values(**values)
        )


async def delivered(mail: Mail) -> bytes:
    assert await mail.deliver() == DeliveryReport(sent=1)
    (envelope,) = mail.server.recorder.messages
    assert envelope.rcpt_tos == [person(1).email]  # nobody added by a header
    assert isinstance(envelope.content, bytes)
    return envelope.content


@pytest.mark.parametrize("name", ATTACKS)
async def test_a_stored_name_never_becomes_a_header(mail: Mail, name: str) -> None:
    if "\x00" in name and not mail.services.settings.is_sqlite:
        pytest.skip("PostgreSQL cannot store NUL; the door refuses it anyway")
    event = await make_event(mail.services)
    result = await book(mail.services, event.id, 1)
    await store_raw(mail, result.registration.id, name=name)

    message = assert_one_header_each(await delivered(mail))
    to = message["To"].addresses[0]
    assert to.addr_spec == person(1).email
    assert harmless(to.display_name)
    assert to.display_name == neutral_line(name)
    cn = attendee_cn(message)
    assert harmless(cn)
    assert cn == neutral_line(name)


async def test_crlf_in_the_organisation_and_title_stays_out_of_the_headers(mail: Mail) -> None:
    event = await make_event(mail.services)
    result = await book(mail.services, event.id, 1)
    await store_raw(
        mail, result.registration.id, organisation="Kommun\r\nX-Injected: yes\r\nBcc: x@evil.ex"
    )
    async with mail.services.transaction() as session:
        await session.execute(
            update(Event).where(Event.id == event.id).values(title=f"Kafé {ISSUE_NAME}\r\nBcc: x")
        )
    message = assert_one_header_each(await delivered(mail))
    subject = str(message["Subject"])
    assert harmless(subject)
    # The title as one neutral line, then the day (notices.subjects).
    title = neutral_line(f"Kafé {ISSUE_NAME}\r\nBcc: x")
    assert subject.startswith(f"Bekräftad plats: {title}, ")


@pytest.mark.parametrize("subject", [ISSUE_NAME, "Ny länk\r\nBcc: all@evil.example", "Ny\x00"])
async def test_an_organisers_subject_never_becomes_a_header(mail: Mail, subject: str) -> None:
    if "\x00" in subject and not mail.services.settings.is_sqlite:
        pytest.skip("PostgreSQL cannot store NUL; the door refuses it anyway")
    event = await make_event(mail.services)
    await book(mail.services, event.id, 1)
    assert await mail.deliver() == DeliveryReport(sent=1)
    mail.clear()
    async with mail.services.transaction() as session:
        send = await send_message(
            session, event.id, subject="Ny länk", body="Hej!", audience=Audience.CONFIRMED
        )
    async with mail.services.transaction() as session:
        await session.execute(
            update(OrganiserSend).where(OrganiserSend.id == send.id).values(subject=subject)
        )
    message = assert_one_header_each(await delivered(mail))
    assert str(message["Subject"]) == neutral_line(subject)


async def test_a_name_typed_at_the_door_is_refused_before_it_reaches_mail(mail: Mail) -> None:
    """The same example through the booking door: refused, so nothing is queued at all."""
    with pytest.raises(InvalidAttendee) as refused:
        validate_attendee(name=ISSUE_NAME, email=person(1).email, consent=True)
    assert set(refused.value.fields) == {"name"}


@settings(deadline=None)
@given(name=st.text(max_size=60), subject=st.text(max_size=60))
@example(name=ISSUE_NAME, subject=ISSUE_NAME)
@example(name='\\"\r\n=?utf-8?q?=0A?=', subject="a=?utf-8?q?x=0D=0ABcc:_x@evil.example?=")
def test_any_name_and_subject_stay_in_their_headers(name: str, subject: str) -> None:
    """The composition rule alone, over any text: one To, one Subject, nothing else."""
    message = EmailMessage(policy=headers.POLICY)
    message["Subject"] = headers.subject(subject)
    message["To"] = headers.mailbox(name, "anna@kommun.example.se")
    message.set_content("Hej")
    headers.verify_headers(message)
    raw = message.as_bytes(policy=policy.SMTP)
    assert header_names(raw) == [
        "Subject",
        "To",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    ]
    back = _PARSER.parsebytes(raw)
    (to,) = back["To"].addresses
    assert to.addr_spec == "anna@kommun.example.se"
    # Python may add a space where it splits a long name into several encoded words, and
    # nothing else: the name reads as stored, minus what neutral_line made harmless.
    assert to.display_name.replace(" ", "") == neutral_line(name).replace(" ", "")
    assert str(back["Subject"]).replace(" ", "") == neutral_line(subject).replace(" ", "")


def test_a_header_that_breaks_its_line_is_refused_at_composition() -> None:
    message = EmailMessage()
    # Set as a raw header, bypassing mail.headers, as a careless caller might.
    message.set_raw("Subject", "Hej\r\nBcc: x@evil.example")
    with pytest.raises(headers.UnsafeHeader) as refused:
        headers.verify_headers(message)
    assert "evil" not in str(refused.value)
    assert isinstance(headers.mailbox("", "anna@kommun.example.se"), Address)
