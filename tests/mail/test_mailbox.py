"""The development mailbox on a real directory: round trip, invites, ordering, hostile ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from itertools import pairwise
from pathlib import Path

import pytest

from mail.mailbox import LocalMailbox, calendar_part

INVITE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Lunchkafé//SV\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:event-1@lunchkafe\r\nSEQUENCE:0\r\nSUMMARY:Lunchkafé: Öppna data\r\n"
    "DTSTART:20261203T110000Z\r\nDTEND:20261203T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


def invitation(to: str = "anna@example.se", subject: str = "Inbjudan: Öppna data") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Lunchkafé <lunchkafe@example.se>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Välkommen onsdag 3 december 2026, kl. 12.00–13.00.\n")
    message.add_alternative("<p>Välkommen onsdag 3 december 2026</p>\n", subtype="html")
    message.add_attachment(
        INVITE,
        maintype="text",
        subtype="calendar",
        filename="inbjudan.ics",
        params={"method": "REQUEST"},
    )
    return message


def test_deliver_list_get_round_trip(tmp_path: Path) -> None:
    mailbox = LocalMailbox(tmp_path / "mailbox")  # created on first delivery
    before = datetime.now(UTC)
    message_id = mailbox.deliver(invitation())
    after = datetime.now(UTC)

    [entry] = mailbox.list()
    assert entry.id == message_id
    assert entry.to == "anna@example.se"
    assert entry.subject == "Inbjudan: Öppna data"
    assert before - timedelta(microseconds=1) <= entry.delivered_at <= after

    stored = mailbox.get(message_id)
    assert stored is not None
    assert stored["Subject"] == "Inbjudan: Öppna data"
    body = stored.get_body(preferencelist=("plain",))
    assert body is not None
    assert "3 december 2026" in body.get_content()
    assert mailbox.invite(message_id) == INVITE
    assert calendar_part(stored) == INVITE


def test_message_without_invite_has_none(tmp_path: Path) -> None:
    mailbox = LocalMailbox(tmp_path)
    message = EmailMessage()
    message["To"] = "bo@example.se"
    message["Subject"] = "Påminnelse"
    message.set_content("Snart börjar det.\n")

    assert mailbox.invite(mailbox.deliver(message)) is None
    assert mailbox.invite("20261203T110000000000Z-0123abcd") is None


def test_only_finished_eml_files_are_left_behind(tmp_path: Path) -> None:
    mailbox = LocalMailbox(tmp_path)
    ids = {mailbox.deliver(invitation()) for _ in range(3)}
    assert {path.name for path in tmp_path.iterdir()} == {f"{i}.eml" for i in ids}


def test_listing_is_newest_first_and_ids_sort_by_delivery(tmp_path: Path) -> None:
    mailbox = LocalMailbox(tmp_path)
    ids = [mailbox.deliver(invitation(subject=f"nr {n}")) for n in range(5)]

    entries = mailbox.list()
    assert [e.id for e in entries] == ids[::-1]
    assert [e.subject for e in entries] == [f"nr {n}" for n in range(4, -1, -1)]
    assert sorted(ids) == ids
    assert all(a.delivered_at > b.delivered_at for a, b in pairwise(entries))


def test_a_second_mailbox_on_the_same_directory_sees_everything(tmp_path: Path) -> None:
    # The worker delivers and the web process lists: two instances, one directory.
    message_id = LocalMailbox(tmp_path).deliver(invitation())
    reader = LocalMailbox(tmp_path)
    assert [e.id for e in reader.list()] == [message_id]
    assert reader.get(message_id) is not None


def test_ids_have_one_strict_form(tmp_path: Path) -> None:
    message_id = LocalMailbox(tmp_path).deliver(invitation())
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}", message_id)


@pytest.mark.parametrize(
    "hostile",
    [
        "../secret",
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "",
        "secret",
        "20261203T110000000000Z-0123abcd/../../secret",
        "20261203T110000000000Z-0123abcd\n",
        "20261203T110000000000Z-0123ABCD",
        "20261203T110000000000Z-0123abcd.eml",
        "%2e%2e%2fsecret",
    ],
)
def test_ids_that_are_not_ours_are_refused(tmp_path: Path, hostile: str) -> None:
    (tmp_path / "secret.eml").write_bytes(invitation(subject="hemligt").as_bytes())
    inbox = tmp_path / "mailbox" / "inner"
    mailbox = LocalMailbox(inbox)
    mailbox.deliver(invitation())

    assert mailbox.get(hostile) is None
    assert mailbox.invite(hostile) is None


def test_stray_files_do_not_show_in_the_list(tmp_path: Path) -> None:
    mailbox = LocalMailbox(tmp_path)
    message_id = mailbox.deliver(invitation())
    (tmp_path / "notes.eml").write_text("From: x\n\nnot ours\n")
    (tmp_path / f".{message_id}.tmp").write_text("half written")

    assert [e.id for e in mailbox.list()] == [message_id]


def test_an_empty_or_missing_mailbox_lists_nothing(tmp_path: Path) -> None:
    assert LocalMailbox(tmp_path / "never-created").list() == []
    assert LocalMailbox(tmp_path / "never-created").get("20261203T110000000000Z-0123abcd") is None
