"""Clock edges where people read them (issue 10 item 6): on the night the clocks go back
(2027-10-31 in Stockholm, 03.00 summer time → 02.00 standard time) the hour 02.00–03.00
happens twice. An event from the first 02.30 to the second, and two events an hour apart at
02.00 summer time and 02.00 standard time, must read as different moments on the public
event page, the home page's cards, the confirmation and reminder mails (text, HTML and
subject, delivered through the real SMTP server) and `lunchkafe events list`: never
"kl. 02.30–02.30", never "02.00" twice for two moments (foundation.i18n.format_clock).
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest

from events.models import Event
from lunchkafe.app import create_app
from lunchkafe.cli import build_parser, run_command
from registrations.messaging import send_reminder_now
from tests.conftest import Mail
from tests.factories import csrf_of, make_event

# 02.30 summer time (00.30 UTC) to 02.30 standard time (01.30 UTC): one hour.
NIGHT = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
# 02.00 summer time and 02.00 standard time: an hour apart, 45 minutes each.
FIRST_TWO = datetime(2027, 10, 31, 0, 0, tzinfo=UTC)
SECOND_TWO = FIRST_TWO + timedelta(hours=1)

# What each event's time reads, in Swedish and in English: which 02.xx is which.
SPANS = {
    "Nattkafé": (
        "söndag 31 oktober 2027, kl. 02.30 (sommartid)–02.30 (normaltid)",
        "Sunday 31 October 2027, 02:30 (summer time)–02:30 (standard time)",
    ),
    "Sommartidens kafé": (
        "söndag 31 oktober 2027, kl. 02.00 (sommartid)–02.45 (sommartid)",
        "Sunday 31 October 2027, 02:00 (summer time)–02:45 (summer time)",
    ),
    "Normaltidens kafé": (
        "söndag 31 oktober 2027, kl. 02.00 (normaltid)–02.45 (normaltid)",
        "Sunday 31 October 2027, 02:00 (standard time)–02:45 (standard time)",
    ),
}
# A clock text in the repeated hour that does not say which of the two it is. Not an ISO
# time ("T02:30", "02:30:00"), which carries its offset or is UTC.
BARE_REPEATED = re.compile(r"(?<![\dT:.])02[.:][0-5]\d(?![\d:]| \()")
# Whichever of the two readings a moment is, with its clock text.
QUALIFIED = re.compile(
    r"(?<![\dT:.])(\d\d[.:]\d\d) \((sommartid|normaltid|summer time|standard time)\)"
)


def assert_unambiguous(text: str, where: str) -> None:
    assert not BARE_REPEATED.findall(text), (where, BARE_REPEATED.findall(text))
    for same in ("02.30–02.30", "02:30–02:30", "02.00–02.00", "02:00–02:00"):
        assert same not in text, (where, same)


async def night_events(mail: Mail) -> dict[str, Event]:
    services = mail.services
    return {
        "Nattkafé": await make_event(
            services, title="Nattkafé", starts_at=NIGHT, ends_at=NIGHT + timedelta(hours=1)
        ),
        "Sommartidens kafé": await make_event(
            services,
            title="Sommartidens kafé",
            starts_at=FIRST_TWO,
            ends_at=FIRST_TWO + timedelta(minutes=45),
        ),
        "Normaltidens kafé": await make_event(
            services,
            title="Normaltidens kafé",
            starts_at=SECOND_TWO,
            ends_at=SECOND_TWO + timedelta(minutes=45),
        ),
    }


@pytest.fixture
async def visitor(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(mail.services.settings, mail.services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return str(text.get_content()), str(html.get_content())


async def test_pages_say_which_of_the_repeated_hours_they_mean(
    mail: Mail, visitor: httpx.AsyncClient
) -> None:
    events = await night_events(mail)
    home_sv, home_en = await visitor.get("/"), await visitor.get("/", params={"lang": "en"})
    for home in (home_sv, home_en):
        assert home.status_code == 200
        assert_unambiguous(home.text, "home")
    for title, event in events.items():
        swedish, english = SPANS[title]
        page_sv = await visitor.get(f"/events/{event.id}", params={"lang": "sv"})
        page_en = await visitor.get(f"/events/{event.id}", params={"lang": "en"})
        assert page_sv.status_code == page_en.status_code == 200
        assert swedish in page_sv.text, title
        assert english in page_en.text, title
        assert swedish in home_sv.text, title  # its card on the home page
        assert english in home_en.text, title
        for page in (page_sv, page_en):
            assert_unambiguous(page.text, title)
    # The two 02.00s read differently wherever both are shown.
    assert set(QUALIFIED.findall(home_sv.text)) >= {
        ("02.00", "sommartid"),
        ("02.00", "normaltid"),
        ("02.30", "sommartid"),
        ("02.30", "normaltid"),
    }


async def test_mails_and_their_subjects_say_which_of_the_repeated_hours_they_mean(
    mail: Mail, visitor: httpx.AsyncClient
) -> None:
    events = await night_events(mail)
    for n, event in enumerate(events.values()):
        page = f"/events/{event.id}"
        booked = await visitor.post(
            f"{page}/book",
            data={
                "csrf_token": await csrf_of(visitor, page),
                "name": f"Nattuggla {n}",
                "email": f"uggla{n}@kommun.example.se",
                "consent": "yes",
            },
        )
        assert booked.status_code == 303, booked.text
        async with mail.services.transaction() as session:
            await send_reminder_now(session, event.id)
    await mail.deliver()

    for n, title in enumerate(events):
        swedish = SPANS[title][0]
        got = mail.to(f"uggla{n}@kommun.example.se")
        subjects = {str(m["Subject"]).split(":")[0]: m for m in got}
        assert set(subjects) == {"Bekräftad plats", "Påminnelse"}, list(subjects)
        for kind, message in subjects.items():
            subject = str(message["Subject"])
            text, html = parts(message)
            assert swedish in text, (title, kind)
            assert swedish in html, (title, kind)
            for where, words in (("subject", subject), ("text", text), ("html", html)):
                assert_unambiguous(words, f"{title} {kind} {where}")
        # The confirmation's subject names the day; the reminder's the whole time.
        assert str(subjects["Bekräftad plats"]["Subject"]).endswith(
            f"{title}, söndag 31 oktober 2027"
        )
        assert str(subjects["Påminnelse"]["Subject"]) == f"Påminnelse: {title}, {swedish}"


async def test_the_command_line_says_which_of_the_repeated_hours_it_means(mail: Mail) -> None:
    await night_events(mail)
    out = io.StringIO()
    with redirect_stdout(out):
        code = await run_command(mail.services, build_parser().parse_args(["events", "list"]))
    listed = out.getvalue()
    assert code == 0
    lines = {title: line for title in SPANS for line in listed.splitlines() if title in line}
    assert set(lines) == set(SPANS), listed
    for title, line in lines.items():
        assert_unambiguous(line, title)
    assert "02.30 (sommartid)–02.30 (normaltid)" in lines["Nattkafé"]
    assert "02.00 (sommartid)" in lines["Sommartidens kafé"]
    assert "02.00 (normaltid)" in lines["Normaltidens kafé"]
