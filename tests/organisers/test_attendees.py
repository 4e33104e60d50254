"""An event's attendees in the workspace (issue 9 item 4): the list and its search, adding
someone by hand, cancelling and promoting, check-in on the day, and the exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email.message import EmailMessage
from html import unescape

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from organisers import accounts
from organisers.models import AuditEntry
from registrations import booking
from registrations.models import RegistrationStatus
from tests.conftest import SECRET, Mail
from tests.factories import (
    address,
    book,
    csrf_in,
    csrf_of,
    make_event,
    on_the_day,
    person,
    registration_of,
)
from web import organiser_attendees

FORMULA = "=cmd|' /C calc'!A0"
PASSWORD = "en lång lösenfras för kaféet"


async def add(services: Services, email: str) -> None:
    """An organiser account (not an admin: an event's list is theirs too)."""
    async with services.transaction() as session:
        await accounts.add_organiser(
            session, email=email, name="Anna", role="organiser", password=PASSWORD, now=utcnow()
        )


async def sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/organiser/login")
    data = {"csrf_token": csrf_in(page.text), "email": email, "password": PASSWORD}
    return await client.post("/organiser/login", data=data)


def text_of(response: httpx.Response) -> str:
    """What a reader sees of a page: its text, spaces collapsed."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", response.text)))


@asynccontextmanager
async def signed_in_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app's client, signed in as an organiser (not an admin: the list is theirs too)."""
    await add(services, "anna@myndigheten.example.se")
    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        signed = await sign_in(client, "anna@myndigheten.example.se")
        assert signed.status_code == 303
        yield client


@pytest.fixture
async def organiser(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in_client(services) as client:
        yield client


@pytest.fixture
async def mailing_organiser(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in to an app whose mail goes to the recording SMTP server."""
    async with signed_in_client(mail.services) as client:
        yield client


def calendar_method(message: EmailMessage) -> str:
    """The iTIP method of the invite a mail carries (REQUEST, CANCEL)."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return str(part.get_param("method"))


async def audit_entries(services: Services, action: str) -> list[AuditEntry]:
    async with services.transaction() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows.all())


def section(text: str, heading: str, following: str | None) -> str:
    """The page's text from `heading` up to `following`."""
    start = text.index(heading)
    return text[start : text.index(following, start) if following else None]


async def test_the_list_shows_who_is_booked_waiting_and_cancelled(
    services: Services, organiser: httpx.AsyncClient
) -> None:
    event = await make_event(services, title="Lunchkafé om förenkling", capacity=2)
    for n in (1, 2, 3, 4, 5):
        await book(services, event.id, n)
    result = await book(services, event.id, 6)
    async with services.transaction() as session:
        assert result.manage_token is not None
        await booking.cancel(session, token=result.manage_token)

    page = await organiser.get(f"/organiser/events/{event.id}/attendees")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    text = text_of(page)
    booked = section(text, "Bokade (2)", "I kö (3)")
    waiting = section(text, "I kö (3)", "Avbokade (1)")
    cancelled = section(text, "Avbokade (1)", None)
    assert "Person 1" in booked
    assert "Person 2" in booked
    assert "person1@kommun.example.se" in booked
    assert "Exempelkommun" in booked
    # The line in its order, each with a place.
    assert re.search(r"1 Person 3 .* 2 Person 4 .* 3 Person 5", waiting)
    assert "Person 6" in cancelled
    assert "Person 6" not in booked + waiting

    (viewed,) = await audit_entries(services, "attendees.viewed")
    assert viewed.subject == f"event:{event.id}"
    assert viewed.detail == {"rows": 6, "searched": False}  # counts, no one's data


async def test_search_finds_by_name_address_or_organisation_in_any_case(
    services: Services, organiser: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    async with services.transaction() as session:
        for n, name, organisation in (
            (1, "Åsa Öberg", "Region Norrbotten"),
            (2, "Bertil Ek", "Exempelkommun"),
            (3, "Cecilia Lind", "Länsstyrelsen"),
        ):
            await booking.book(
                session,
                event_id=event.id,
                attendee=person(n, name=name, organisation=organisation),
                secret_key=SECRET,
            )
    path = f"/organiser/events/{event.id}/attendees"

    async def found(query: str) -> set[str]:
        text = text_of(await organiser.get(path, params={"q": query}))
        return {name for name in ("Åsa Öberg", "Bertil Ek", "Cecilia Lind") if name in text}

    assert await found("åsa") == {"Åsa Öberg"}  # not ASCII, and in another case
    assert await found("PERSON2@KOMMUN") == {"Bertil Ek"}
    assert await found("länsstyrelsen") == {"Cecilia Lind"}
    assert await found("e") == {"Åsa Öberg", "Bertil Ek", "Cecilia Lind"}
    nothing = await organiser.get(path, params={"q": "finns inte"})
    assert "0 träffar för ”finns inte”" in text_of(nothing)
    assert 'value="finns inte"' in nothing.text  # the search stays in its box


async def test_adding_someone_by_hand_sends_them_the_confirmation(
    mail: Mail, mailing_organiser: httpx.AsyncClient
) -> None:
    services = mail.services
    event = await make_event(services, capacity=1)
    path = f"/organiser/events/{event.id}/attendees/new"
    form = await mailing_organiser.get(path)
    assert "för personens räkning" in text_of(form)  # the form says whose consent it is
    fields = {
        "csrf_token": await csrf_of(mailing_organiser, path),
        "name": "Dagny Holm",
        "email": "dagny.holm@kommun.example.se",
        "organisation": "Exempelkommun",
        "municipality": "Region Exempel",
    }
    refused = await mailing_organiser.post(path, data=fields)
    assert refused.status_code == 422
    assert "Kryssa i rutan när personen har godkänt" in text_of(refused)
    assert 'value="Dagny Holm"' in refused.text  # what was typed is kept

    added = await mailing_organiser.post(path, data={**fields, "consent": "yes"})
    assert added.status_code == 303
    listed = await mailing_organiser.get(added.headers["location"])
    assert "Personen har fått en plats och ett mejl med kalenderinbjudan." in text_of(listed)
    assert "Dagny Holm" in section(text_of(listed), "Bokade (1)", "I kö (0)")
    await mail.deliver()
    assert calendar_method(mail.only("dagny.holm@kommun.example.se")) == "REQUEST"
    (entry,) = await audit_entries(services, "registration.added")
    assert "Dagny" not in str(entry.detail)
    assert "dagny" not in str(entry.detail)

    again = await mailing_organiser.post(
        path, data={**fields, "email": "DAGNY.HOLM@kommun.example.se", "consent": "yes"}
    )
    assert again.status_code == 422
    assert "redan en plats" in text_of(again)
    # A second person finds the event full and is put in line, and told so.
    queued = await mailing_organiser.post(
        path, data={**fields, "email": address(2), "consent": "yes"}
    )
    listed = await mailing_organiser.get(queued.headers["location"])
    assert "personen står i kön" in text_of(listed)


async def test_someone_added_by_hand_is_mailed_in_the_language_chosen_for_them(
    mail: Mail, mailing_organiser: httpx.AsyncClient
) -> None:
    event = await make_event(mail.services)
    path = f"/organiser/events/{event.id}/attendees/new"
    form = await mailing_organiser.get(path)
    # A choice, Swedish unless the organiser says otherwise.
    assert '<option value="sv" selected>Svenska</option>' in form.text
    assert '<option value="en">Engelska</option>' in form.text
    fields = {"csrf_token": csrf_in(form.text), "consent": "yes"}
    for n, language in ((1, None), (2, "en")):
        chosen = {"language": language} if language else {}
        added = await mailing_organiser.post(
            path, data={**fields, "name": f"Person {n}", "email": address(n), **chosen}
        )
        assert added.status_code == 303
    refused = await mailing_organiser.post(
        path, data={**fields, "name": "Person 3", "email": address(3), "language": "fi"}
    )
    assert refused.status_code == 422
    assert "Välj språk: sv (svenska) eller en (engelska)." in text_of(refused)

    await mail.deliver()
    assert str(mail.only(address(1))["Subject"]).startswith("Bekräftad plats:")
    assert str(mail.only(address(2))["Subject"]).startswith("Seat confirmed:")
    assert (await registration_of(mail.services, event.id, address(2))).language == "en"


async def test_cancelling_someone_tells_them_and_gives_the_seat_to_the_first_in_line(
    mail: Mail, mailing_organiser: httpx.AsyncClient
) -> None:
    services = mail.services
    event = await make_event(services, capacity=1)
    for n in (1, 2, 3):
        await book(services, event.id, n)
    await mail.deliver()
    mail.clear()
    first = await registration_of(services, event.id, address(1))
    path = f"/organiser/events/{event.id}/attendees/{first.id}/cancel"
    token = await csrf_of(mailing_organiser, f"/organiser/events/{event.id}/attendees")

    asked = await mailing_organiser.post(path, data={"csrf_token": token})
    assert asked.status_code == 200  # the confirmation step, nothing done yet
    assert "Avboka Person 1?" in text_of(asked)
    assert asked.headers["cache-control"] == "private, no-store"
    assert (await registration_of(services, event.id, address(1))).status == "confirmed"

    done = await mailing_organiser.post(path, data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 303
    text = text_of(await mailing_organiser.get(done.headers["location"]))
    assert "Platsen är avbokad" in text
    assert "Person 2" in section(text, "Bokade (1)", "I kö (1)")
    assert re.search(r"1 Person 3", section(text, "I kö (1)", "Avbokade (1)"))
    await mail.deliver()
    assert calendar_method(mail.only(address(1))) == "CANCEL"
    assert calendar_method(mail.only(address(2))) == "REQUEST"
    assert mail.to(address(3)) == []


async def test_a_seat_freed_after_the_start_is_given_without_adding_one(
    services: Services, organiser: httpx.AsyncClient
) -> None:
    # Begun, not over: a seat freed now is not given away by itself.
    began = utcnow() - timedelta(minutes=10)
    event = await make_event(
        services, capacity=1, starts_at=began, ends_at=began + timedelta(hours=1)
    )
    for n in (1, 2, 3):
        await book(services, event.id, n, now=began - timedelta(days=1))
    first = await registration_of(services, event.id, address(1))
    async with services.transaction() as session:
        await booking.cancel_by_id(session, event_id=event.id, registration_id=first.id)
    third = await registration_of(services, event.id, address(3))
    list_path = f"/organiser/events/{event.id}/attendees"
    promote = f"/organiser/events/{event.id}/attendees/{third.id}/promote"
    token = await csrf_of(organiser, list_path)

    asked = await organiser.post(promote, data={"csrf_token": token})
    assert asked.status_code == 200
    assert "Ge Person 3 den lediga platsen?" in text_of(asked)
    assert "Antalet platser ändras inte." in text_of(asked)
    seen = re.search(r'name="seen" value="([^"]+)"', asked.text)
    assert seen
    given = await organiser.post(
        promote, data={"csrf_token": token, "confirmed": "yes", "seen": seen[1]}
    )
    assert given.status_code == 303
    text = text_of(await organiser.get(list_path))
    assert "Personen har fått platsen" in text
    assert "Person 3" in section(text, "Bokade (1)", "I kö (1)")
    assert re.search(r"1 Person 2", section(text, "I kö (1)", "Avbokade (1)"))
    assert "Platser 0 lediga platser av 1" in text


async def test_check_in_marks_present_and_no_show_and_undoes(
    services: Services, organiser: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=3)
    for n in (1, 2, 3, 4):
        await book(services, event.id, n)
    one = await registration_of(services, event.id, address(1))
    two = await registration_of(services, event.id, address(2))
    waiting = await registration_of(services, event.id, address(4))
    await on_the_day(services, event.id)
    path = f"/organiser/events/{event.id}/check-in"

    async def counts() -> str:
        page = await organiser.get(path)
        assert page.headers["cache-control"] == "private, no-store"
        match = re.search(r"(\d+) närvarande (\d+) uteblev (\d+) ej markerade", text_of(page))
        assert match, text_of(page)
        return "/".join(match.groups())

    assert await counts() == "0/0/3"
    token = await csrf_of(organiser, path)

    async def tap(registration_id: int, mark: str) -> httpx.Response:
        return await organiser.post(
            f"{path}/{registration_id}", data={"csrf_token": token, "mark": mark}
        )

    present = await tap(one.id, "present")
    assert present.status_code == 303
    assert present.headers["location"] == f"{path}#r-{one.id}"  # back to the same row
    await tap(two.id, "no_show")
    page = await organiser.get(path)
    assert f'id="r-{one.id}"' in page.text
    assert await counts() == "1/1/1"
    await tap(one.id, "undo")
    assert await counts() == "0/1/2"
    marked = await registration_of(services, event.id, address(2))
    assert (marked.attended, marked.attendance_marked_at is not None) == (False, True)

    refused = await tap(waiting.id, "present")  # someone in line has no seat to be in
    assert "Bara den som har en bekräftad plats" in text_of(await organiser.get(path))
    assert refused.status_code == 303
    assert (await tap(one.id, "maybe")).status_code == 400
    assert len(await audit_entries(services, "attendance.marked")) == 3


async def test_the_csv_opens_right_in_swedish_excel_and_runs_no_formula(
    services: Services, organiser: httpx.AsyncClient
) -> None:
    event = await make_event(services, capacity=1)
    async with services.transaction() as session:
        for n, name in ((1, FORMULA), (2, "Åsa Öberg")):
            await booking.book(
                session,
                event_id=event.id,
                attendee=person(n, name=name, organisation="-1+1", municipality="@SUM(A1)"),
                secret_key=SECRET,
            )
    answer = await organiser.get(f"/organiser/events/{event.id}/attendees.csv")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="deltagare-{event.id}.csv"'
    )
    assert answer.headers["content-type"].startswith("text/csv")
    data = answer.content
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 3
    assert "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0][:4] == ["Status", "Plats i kön", "Namn", "E-postadress"]
    by_name = {row[2].lstrip("'"): row for row in rows[1:]}
    formula = by_name[FORMULA.replace("|", "\\|")]
    assert formula[0] == "Bokad"
    assert formula[2].startswith("'")
    assert not formula[2].startswith("=")
    assert formula[4] == "'-1+1"
    assert formula[5] == "'@SUM(A1)"
    assert by_name["Åsa Öberg"][:2] == ["I kö", "1"]
    (exported,) = await audit_entries(services, "attendees.exported")
    assert exported.detail == {"rows": 2, "format": "csv"}


async def test_the_xlsx_holds_every_text_as_a_string(
    services: Services, organiser: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    async with services.transaction() as session:
        await booking.book(
            session,
            event_id=event.id,
            attendee=person(1, name=FORMULA, organisation="=1+1"),
            secret_key=SECRET,
        )
    answer = await organiser.get(f"/organiser/events/{event.id}/attendees.xlsx")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="deltagare-{event.id}.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert header[2] == "Namn"
    name, organisation = sheet.cell(row=2, column=3), sheet.cell(row=2, column=5)
    assert (name.value, name.data_type) == (FORMULA, "s")
    assert (organisation.value, organisation.data_type) == ("=1+1", "s")
    assert sheet.cell(row=2, column=1).value == "Bokad"


async def test_every_attendee_route_sends_the_anonymous_to_sign_in(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    result = await book(services, event.id, 1)
    registration = result.registration
    for route in organiser_attendees.routes:
        path = route.path_format.format(event_id=event.id, registration_id=registration.id)
        for method in route.methods or ():
            if method == "HEAD":
                continue
            answer = await client.request(method, path)
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/organiser/login?next="), path
    assert (await registration_of(services, event.id, address(1))).status == (
        RegistrationStatus.CONFIRMED
    )
