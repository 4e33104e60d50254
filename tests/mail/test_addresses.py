"""An address we can deliver to (mail/addresses.py): what the booking accepts is what the
relay receives, through a real aiosmtpd server on loopback with and without SMTPUTF8.

Issue 10 item 1: `åsa@example.se` booked a seat whose confirmation then failed to compose,
and `anna@räksmörgås.se` reached the local mailbox as an RFC 2047 encoded word inside the
address and was refused for good by a relay without SMTPUTF8.
"""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mail.addresses import (
    MSG_LOCAL_PART_NOT_ASCII,
    Undeliverable,
    canonical,
    deliverable,
    on_the_wire,
)
from mail.mailbox import LocalMailbox
from notices.delivery import DeliveryReport
from registrations import booking
from registrations.attendee import validate_attendee
from registrations.errors import MSG_EMAIL_INVALID, InvalidAttendee
from tests.conftest import SECRET, Mail, MailFactory, SmtpServer
from tests.factories import make_event

LOCAL_BEYOND_ASCII = "åsa@example.se"
IDN = "anna@räksmörgås.se"
IDN_ASCII = "anna@xn--rksmrgs-5wao1o.se"
_PARSER = BytesParser(policy=policy.default)
StartServer = Callable[..., SmtpServer]


def same_mailbox(intended: str, seen: str) -> bool:
    """`seen` names `intended`: the same local part, the domain as written or in A-labels."""
    if seen == intended:
        return True
    try:
        return seen == on_the_wire(intended, smtputf8=False)
    except Undeliverable:
        return False


def addr_spec(message: EmailMessage) -> str:
    """The To address as read; Python's parser keeps the UTF-8 of RFC 6532 headers as
    surrogate escapes in an address (though not in the header's text), so undo that."""
    spec = str(message["To"].addresses[0].addr_spec)
    return spec.encode("utf-8", "surrogateescape").decode("utf-8")


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


# --- the rule ---------------------------------------------------------------------------------


def test_an_internationalised_domain_is_deliverable_everywhere() -> None:
    assert deliverable(IDN, smtputf8=False) == IDN
    assert deliverable("Anna@RÄKSMÖRGÅS.se", smtputf8=False) == "Anna@räksmörgås.se"
    assert on_the_wire(IDN, smtputf8=False) == IDN_ASCII
    assert on_the_wire(IDN, smtputf8=True) == IDN


def test_a_local_part_beyond_ascii_needs_smtputf8() -> None:
    with pytest.raises(Undeliverable) as refused:
        deliverable(LOCAL_BEYOND_ASCII, smtputf8=False)
    assert refused.value.needs_smtputf8
    assert "åsa" not in str(refused.value)
    assert deliverable(LOCAL_BEYOND_ASCII, smtputf8=True) == LOCAL_BEYOND_ASCII
    with pytest.raises(Undeliverable):
        on_the_wire(LOCAL_BEYOND_ASCII, smtputf8=False)
    assert on_the_wire(LOCAL_BEYOND_ASCII, smtputf8=True) == LOCAL_BEYOND_ASCII


def test_the_booking_form_says_why_a_local_part_beyond_ascii_is_refused() -> None:
    with pytest.raises(InvalidAttendee) as refused:
        validate_attendee(name="Åsa Öberg", email=LOCAL_BEYOND_ASCII, consent=True)
    assert refused.value.fields == {"email": MSG_LOCAL_PART_NOT_ASCII}
    with pytest.raises(InvalidAttendee) as invalid:
        validate_attendee(name="Åsa Öberg", email="åsa@", consent=True, smtputf8=True)
    assert invalid.value.fields == {"email": MSG_EMAIL_INVALID}
    accepted = validate_attendee(
        name="Åsa Öberg", email=LOCAL_BEYOND_ASCII, consent=True, smtputf8=True
    )
    assert accepted.email == LOCAL_BEYOND_ASCII
    assert validate_attendee(name="Anna", email=IDN, consent=True).email == IDN


async def test_the_api_refuses_a_local_part_beyond_ascii_with_the_field_message(
    services: Any, client: Any
) -> None:
    event = await make_event(services)
    answer = await client.post(
        f"/api/events/{event.id}/registrations",
        json={"name": "Åsa Öberg", "email": LOCAL_BEYOND_ASCII, "consent": True},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {"email": MSG_LOCAL_PART_NOT_ASCII}


# --- through the relay and the local mailbox ----------------------------------------------------


async def book_and_deliver(mail: Mail, email: str, *, smtputf8: bool) -> str:
    """Book `email` as the forms do (validation first), deliver, and return what was stored."""
    attendee = validate_attendee(name="Åsa Öberg", email=email, consent=True, smtputf8=smtputf8)
    event = await make_event(mail.services)
    async with mail.services.transaction() as session:
        await booking.book(session, event_id=event.id, attendee=attendee, secret_key=SECRET)
    assert await mail.deliver() == DeliveryReport(sent=1)
    return attendee.email


def received(server: SmtpServer) -> tuple[list[str], EmailMessage, bytes]:
    envelope = server.recorder.messages[-1]
    assert isinstance(envelope.content, bytes)
    message = _PARSER.parsebytes(envelope.content)
    assert isinstance(message, EmailMessage)
    return list(envelope.rcpt_tos), message, envelope.content


async def test_an_idn_goes_out_in_a_labels_to_a_relay_without_smtputf8(
    mail_factory: MailFactory, start_server: StartServer
) -> None:
    mail = mail_factory(start_server(enable_SMTPUTF8=False))
    await book_and_deliver(mail, IDN, smtputf8=False)
    rcpt, message, raw = received(mail.server)
    assert rcpt == [IDN_ASCII]
    assert addr_spec(message) == IDN_ASCII
    assert message["To"].addresses[0].display_name == "Åsa Öberg"
    assert raw.isascii()
    assert b"SMTPUTF8" not in b" ".join(
        o.encode() for o in mail.server.recorder.messages[-1].mail_options
    )


async def test_with_smtputf8_both_kinds_go_out_as_written(
    mail_factory: MailFactory, start_server: StartServer
) -> None:
    mail = mail_factory(start_server(enable_SMTPUTF8=True), SMTP_UTF8="on")
    for email in (LOCAL_BEYOND_ASCII, IDN):
        await book_and_deliver(mail, email, smtputf8=True)
        rcpt, message, _ = received(mail.server)
        assert rcpt == [email]
        assert addr_spec(message) == email
        assert "SMTPUTF8" in mail.server.recorder.messages[-1].mail_options


async def test_a_relay_that_breaks_the_smtputf8_promise_fails_the_mail_not_the_queue(
    mail_factory: MailFactory, start_server: StartServer
) -> None:
    mail = mail_factory(start_server(enable_SMTPUTF8=False), SMTP_UTF8="on")
    attendee = validate_attendee(name="Åsa", email=LOCAL_BEYOND_ASCII, consent=True, smtputf8=True)
    event = await make_event(mail.services)
    async with mail.services.transaction() as session:
        await booking.book(session, event_id=event.id, attendee=attendee, secret_key=SECRET)
    assert await mail.deliver() == DeliveryReport(failed=1)
    assert mail.server.recorder.messages == []


@pytest.mark.parametrize("smtputf8", [False, True], ids=["ascii", "smtputf8"])
def test_the_local_mailbox_writes_the_address_not_an_encoded_word(
    tmp_path: Path, smtputf8: bool
) -> None:
    from mail import headers

    message = EmailMessage(policy=headers.POLICY)
    message["From"] = "Lunchkafé <lunchkafe@localhost>"
    message["To"] = headers.mailbox("Anna Räk", IDN)
    message["Subject"] = "Välkommen"
    message.set_content("Hej")
    mailbox = LocalMailbox(tmp_path, smtputf8=smtputf8)
    message_id = mailbox.deliver(message)
    raw = (tmp_path / f"{message_id}.eml").read_bytes()
    to_line = next(line for line in header_block(raw).split(b"\r\n") if line.startswith(b"To:"))
    assert b"=?" not in to_line.split(b"<", 1)[1]
    stored = mailbox.get(message_id)
    assert stored is not None
    assert addr_spec(stored) == (IDN if smtputf8 else IDN_ASCII)
    [entry] = mailbox.list()
    assert entry.to.endswith(f"<{IDN if smtputf8 else IDN_ASCII}>")
    if not smtputf8:
        to_asa = EmailMessage(policy=headers.POLICY)
        to_asa["From"] = "Lunchkafé <lunchkafe@localhost>"
        to_asa["To"] = headers.mailbox("Åsa", LOCAL_BEYOND_ASCII)
        with pytest.raises(Undeliverable):
            mailbox.deliver(to_asa)


# --- every address validation accepts, delivered ------------------------------------------------

_ASCII_ATOM = st.from_regex(r"\A[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,12}\Z")
_UNICODE_ATOM = st.text(
    st.sampled_from("åäöÅÄÖéüßøæñçłžşğıй中文日本🙂") | st.sampled_from("abcxyz019-_+"),
    min_size=1,
    max_size=10,
)
_LOCAL = st.lists(_ASCII_ATOM | _UNICODE_ATOM, min_size=1, max_size=3).map(".".join)
_LABEL = st.sampled_from(
    ["example", "kommun", "räksmörgås", "bücher", "münchen", "xn--rksmrgs-5wao1o", "a-b", "ö"]
) | st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z")
_DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.sampled_from(["se", "nu", "com", "org", "eu", "museum"]),
)
ADDRESSES = st.one_of(
    st.emails(),
    st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL, _DOMAIN),
)


@pytest.fixture
def relay(mail_factory: MailFactory, start_server: StartServer, smtputf8: bool) -> Mail:
    """The test's relay, built once per run of the test (per database and SMTPUTF8 choice)
    and shared by its hypothesis examples: function-scoped fixtures are set up once for all
    of them, and torn down with the run, so no example meets another run's server."""
    return mail_factory(
        start_server(enable_SMTPUTF8=smtputf8), SMTP_UTF8="on" if smtputf8 else "off"
    )


@pytest.mark.parametrize("smtputf8", [False, True], ids=["relay-without-smtputf8", "smtputf8"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=ADDRESSES)
@example(text=LOCAL_BEYOND_ASCII)
@example(text=IDN)
@example(text="Anna.Ek+lunch@Kommun.Example.SE")
async def test_every_address_validation_accepts_is_delivered_to_itself(
    relay: Mail, smtputf8: bool, text: str
) -> None:
    """Booked as the forms book (validation with the site's SMTP_UTF8), sent through aiosmtpd
    offering SMTPUTF8 exactly when the setting says so: every accepted address is delivered,
    to the mailbox intended (the domain in A-labels where the relay lacks SMTPUTF8), with the
    To header naming the same mailbox; what is refused is refused at the door."""
    mail = relay
    try:
        attendee = validate_attendee(name="Åsa Öberg", email=text, consent=True, smtputf8=smtputf8)
    except InvalidAttendee as refused:
        # Refused at the door, before any seat: for SMTPUTF8 only where the relay lacks it.
        if refused.fields["email"] == MSG_LOCAL_PART_NOT_ASCII:
            assert not smtputf8
        return
    before = len(mail.server.recorder.messages)
    await book_and_deliver(mail, attendee.email, smtputf8=smtputf8)
    assert len(mail.server.recorder.messages) == before + 1
    rcpt, message, raw = received(mail.server)
    assert len(rcpt) == 1
    assert same_mailbox(attendee.email, rcpt[0]), (attendee.email, rcpt)
    assert same_mailbox(attendee.email, addr_spec(message))
    assert message["To"].addresses[0].display_name == "Åsa Öberg"
    if not smtputf8:
        assert raw.isascii()


@pytest.mark.parametrize(
    "spelled",
    [
        IDN,
        IDN_ASCII,
        "ANNA@XN--RKSMRGS-5WAO1O.SE",
        " Anna@Räksmörgås.SE ",
        "anna@ra\u0308ksmo\u0308rga\u030as.se",
    ],
    ids=["unicode", "a-labels", "a-labels-upper", "cased-spaced", "decomposed"],
)
def test_one_key_for_every_spelling_of_an_address(spelled: str) -> None:
    """What looks an address up (signing in, a forgotten password, a booking's duplicate
    check) compares this key: the domain in U-labels, NFC, case folded as before."""
    assert canonical(spelled) == IDN


@given(text=ADDRESSES)
@settings(max_examples=200, deadline=None)
def test_the_key_is_the_same_for_an_address_as_stored_and_as_sent(text: str) -> None:
    try:
        stored = deliverable(text, smtputf8=True)
    except Undeliverable:
        return
    assert canonical(stored) == canonical(text)
    assert canonical(canonical(text)) == canonical(text)
    if stored.partition("@")[0].isascii():
        assert canonical(on_the_wire(stored, smtputf8=False)) == canonical(stored)
