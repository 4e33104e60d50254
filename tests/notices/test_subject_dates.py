"""Each date of a series gets a subject of its own: the mails about one event (a seat, a place
in line, a promotion, a cancellation, a change, the follow-up) end with its day, "Bekräftad
plats: Lunchkafé om förenkling, onsdag 16 december", the year only when it is not this one.
Through the recording SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from events.schedule import create_series
from foundation.timestamps import utcnow
from registrations import booking
from tests.conftest import SECRET, Mail
from tests.factories import address, book, cancel, make_event, person

TITLE = "Lunchkafé om förenkling"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def day(moment: datetime, language: str = "sv") -> str:
    local = moment.astimezone(STOCKHOLM)
    said = format_date(local.date(), "EEEE d MMMM", locale=language)
    return said if local.year == utcnow().astimezone(STOCKHOLM).year else f"{said} {local.year}"


async def test_each_date_of_a_series_has_its_own_subject(mail: Mail) -> None:
    services = mail.services
    async with services.transaction() as session:
        await create_series(session, slug="forenkling", title="Lunchkaféer om förenkling")
    first = utcnow().replace(microsecond=0) + timedelta(days=3)
    events = [
        await make_event(
            services,
            title=TITLE,
            series_slug="forenkling",
            starts_at=first + timedelta(days=7 * n),
            ends_at=first + timedelta(days=7 * n, hours=1),
            capacity=1 if n == 2 else 20,
        )
        for n in range(3)
    ]
    nine = await book(services, events[2].id, 9)  # the last date is full: person 1 waits there
    await mail.deliver()
    mail.clear()
    async with services.transaction() as session:
        await booking.book_series(
            session, series_slug="forenkling", attendee=person(1), secret_key=SECRET
        )
    await mail.deliver()

    subjects = sorted(str(m["Subject"]) for m in mail.to(address(1)))
    assert subjects == sorted(
        [f"Bekräftad plats: {TITLE}, {day(e.starts_at)}" for e in events[:2]]
        + [f"Du står i kö: {TITLE}, {day(events[2].starts_at)}"]
    )
    assert len(set(subjects)) == 3

    # The seat frees: the promotion and the cancellation say which date too.
    mail.clear()
    await cancel(services, nine.manage_token)
    await mail.deliver()
    promoted = mail.only(address(1))
    assert str(promoted["Subject"]) == f"Du har fått en plats: {TITLE}, {day(events[2].starts_at)}"
    cancelled = [m for m in mail.to(address(9)) if str(m["Subject"]).startswith("Avbokad:")]
    assert [str(m["Subject"]) for m in cancelled] == [
        f"Avbokad: {TITLE}, {day(events[2].starts_at)}"
    ]


async def test_the_day_is_in_the_persons_language_with_the_year_when_not_this_one(
    mail: Mail,
) -> None:
    services = mail.services
    next_year = utcnow().astimezone(STOCKHOLM).year + 1
    starts = datetime(next_year, 1, 13, 11, 0, tzinfo=UTC)  # 12.00 in Stockholm
    event = await make_event(
        services, title=TITLE, starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    async with services.transaction() as session:
        await booking.book(
            session, event_id=event.id, attendee=person(1, language="en"), secret_key=SECRET
        )
    await book(services, event.id, 2)
    await mail.deliver()
    english = format_date(starts.astimezone(STOCKHOLM).date(), "EEEE d MMMM y", locale="en")
    swedish = format_date(starts.astimezone(STOCKHOLM).date(), "EEEE d MMMM y", locale="sv")
    assert str(mail.only(address(1))["Subject"]) == f"Seat confirmed: {TITLE}, {english}"
    assert str(mail.only(address(2))["Subject"]) == f"Bekräftad plats: {TITLE}, {swedish}"
