"""A fan-out's mail (notices.fan_out: rendered once per shape, assembled as bytes) reads
exactly as the mail composed whole by notices.compose.render: the same headers, decoded the
same, the same text and HTML, whoever it is to and whatever relay takes it.

The drafts are built in memory (no database): what is compared is the composing alone.
Delivery of fan-out mail through a real server is in test_compose.py, test_delivery.py and
tests/workers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtplib.email import flatten_message
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from events.models import Event, EventStatus
from foundation.settings import Settings
from mail.addresses import Undeliverable
from mail.headers import UnsafeHeader
from mail.models import MessageKind, OrganiserSend, OutboxMessage
from notices.compose import Draft, render
from notices.fan_out import FanOut
from registrations.models import Registration, RegistrationStatus
from tests.conftest import make_settings

_PARSER = BytesParser(policy=policy.default)
NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
ADDRESSES = [
    "anna@example.se",
    "anna@räksmörgås.se",  # an IDN: A-labels without SMTPUTF8
    "åsa@example.se",  # a local part beyond ASCII: only SMTPUTF8 carries it
    "o'brien+tag@kommun.example.se",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var = Path(tmp_path_factory.mktemp("fan_out"))
    return make_settings(f"sqlite+aiosqlite:///{var / 'unused.db'}", var)


def draft(
    kind: MessageKind,
    *,
    name: str,
    email: str,
    language: str,
    title: str = "Lunchkafé om förenkling",
    body: str = "Hej!\nLäs detta & kom i tid <3",
) -> Draft:
    event = Event(
        id=7,
        title=title,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        venue="",
        join_url="https://meet.example.se/rum?id=1&pw=2",
        status=EventStatus.PUBLISHED,
        capacity=50,
        sequence=0,
    )
    registration = Registration(
        id=11,
        event_id=7,
        name=name,
        email=email,
        email_normalised=email.lower(),
        language=language,
        status=RegistrationStatus.CONFIRMED,
        token_nonce="nonce-of-the-booking",
        sequence_bump=0,
    )
    send = OrganiserSend(id=3, event_id=7, kind=kind, subject=title, body=body)
    row = OutboxMessage(
        id=123,
        kind=kind,
        recipient=email,
        registration_id=11,
        event_id=7,
        send_id=3 if kind == MessageKind.ORGANISER_MESSAGE else None,
        payload={"offset": 60} if kind == MessageKind.REMINDER else {},
    )
    return Draft(
        row=row,
        registration=registration,
        event=event,
        examples=[],
        feed_token="feed-token_of-the-person",
        position=None,
        send=send if kind == MessageKind.ORGANISER_MESSAGE else None,
    )


def whole(d: Draft, site: Settings, utf8: bool, cte: str) -> bytes:
    return flatten_message(render(d, site, NOW), utf8=utf8, cte_type=cte)


def fanned(d: Draft, site: Settings, utf8: bool) -> bytes:
    mail = FanOut(site, NOW).mail(d)
    assert mail is not None
    return mail.data(utf8)


def outcome(make: object) -> bytes | str:
    """The bytes, or the kind of refusal."""
    try:
        return make()  # type: ignore[operator, no-any-return]
    except (Undeliverable, UnsafeHeader, UnicodeEncodeError) as exc:
        return type(exc).__name__


def assert_reads_the_same(a: bytes, b: bytes) -> None:
    one, two = _PARSER.parsebytes(a), _PARSER.parsebytes(b)
    assert isinstance(one, EmailMessage)
    assert isinstance(two, EmailMessage)
    for name in ("Subject", "From", "To", "Date", "Auto-Submitted", "MIME-Version"):
        assert str(one[name]) == str(two[name]), name
    assert [a.addr_spec for a in one["To"].addresses] == [a.addr_spec for a in two["To"].addresses]
    assert one.get_content_type() == two.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        mine, theirs = one.get_body((kind,)), two.get_body((kind,))
        assert mine is not None
        assert theirs is not None
        # Line ends as read: CRLF from a part sent as text, either from base64.
        assert _lines(mine.get_content()) == _lines(theirs.get_content()), kind
    ids = [
        re.fullmatch(r"<\d+\.\d+\.\d+\.outbox123@[^>]+>", str(m["Message-ID"])) for m in (one, two)
    ]
    assert all(ids), [str(m["Message-ID"]) for m in (one, two)]
    # The header lines people's words are in are the very same bytes.
    lines = [_header_lines(raw) for raw in (a, b)]
    for header in (b"Subject", b"From", b"To"):
        assert lines[0][header] == lines[1][header], header


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _header_lines(raw: bytes) -> dict[bytes, bytes]:
    """Each header of the block, folds and all, by name."""
    lines = {}
    for line in re.split(rb"\r\n(?![ \t])", raw.split(b"\r\n\r\n", 1)[0]):
        name, _, value = line.partition(b":")
        lines[name] = value
    return lines


@pytest.mark.parametrize("kind", [MessageKind.REMINDER, MessageKind.ORGANISER_MESSAGE])
@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_fanned_out_mail_reads_as_the_mail_composed_whole(
    site: Settings, kind: MessageKind, language: str
) -> None:
    d = draft(kind, name="Maria Åkesson-Ek", email="maria@kommun.example.se", language=language)
    for utf8, cte in ((False, "7bit"), (False, "8bit"), (True, "8bit")):
        assert_reads_the_same(whole(d, site, utf8, cte), fanned(d, site, utf8))
    text = _PARSER.parsebytes(fanned(d, site, False)).get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert ("Hej Maria!" if language == "sv" else "Hello Maria,") in content, content


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=80),
    title=st.text(min_size=1, max_size=120),
    body=st.text(min_size=1, max_size=300),
    email=st.sampled_from(ADDRESSES),
    kind=st.sampled_from([MessageKind.REMINDER, MessageKind.ORGANISER_MESSAGE]),
    utf8=st.booleans(),
)
@example(
    name="=?utf-8?q?Anna?= <x@evil.example>\r\nBcc: x@evil.example",
    title="Möte\r\nBcc: x@evil.example",
    body="q0n",
    email="anna@example.se",
    kind=MessageKind.ORGANISER_MESSAGE,
    utf8=False,
)
@example(
    name="&<b>Åsa</b>",
    title="A & B",
    body="<i>",
    email="åsa@example.se",
    kind=MessageKind.REMINDER,
    utf8=True,
)
def test_whoever_it_is_to_the_fan_out_writes_what_compose_writes(
    site: Settings,
    name: str,
    title: str,
    body: str,
    email: str,
    kind: MessageKind,
    utf8: bool,
) -> None:
    d = draft(kind, name=name, email=email, language="sv", title=title, body=body)
    composed = outcome(lambda: whole(d, site, utf8, "8bit"))
    fan = outcome(lambda: fanned(d, site, utf8))
    if isinstance(composed, str) or isinstance(fan, str):
        # Refused alike: a header that would break its line, an address the relay cannot
        # carry (the fan-out refuses the latter when it is sent, as SmtpTransport shows).
        assert composed == fan or {composed, fan} <= {"Undeliverable", "UnicodeEncodeError"}
        return
    assert_reads_the_same(composed, fan)
