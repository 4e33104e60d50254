"""One organiser's whole journey in headless Chromium (issue 9 item 9), on SQLite and PostgreSQL:
sign in; plan a series of four dates and publish them; an attendee books one date on the public
site and the booking shows on its attendee list; the date is rescheduled after its preview, and
the attendee's mailbox holds exactly one updated invite (REQUEST, a higher SEQUENCE, the new
time); a message is previewed, sent and its progress reaches "sent" without a reload; a second
attendee books and both are checked in on a phone-wide screen; the CSV export read back has its
BOM, `;` separators and a neutralised `=cmd` cell. Every page visited passes axe-core's WCAG 2.1
A/AA rules. The test waits for elements, never for time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from playwright.async_api import Page, ViewportSize

from foundation.services import Services
from mail.mailbox import LocalMailbox
from notices.delivery import deliver_due
from tests.browser import RECEIVED, Visitor, axe_violations, fill_booking
from tests.factories import on_the_day
from tests.signing_in import PASSWORD, add

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ORGANISER = "olle@myndigheten.example.se"
FIRST = ("Ada Lindqvist", "ada@kommun.example.se")
SECOND = ("Bo Ek", "bo@region.example.se")
FORMULA = "=cmd|' /C calc'!A0"  # the organisation the second attendee types
TITLE = "Vårens lunchkaféer"
PHONE = ViewportSize(width=375, height=740)


async def accessible(page: Page, base: str) -> None:
    violations = await axe_violations(page, base)
    assert violations == [], (page.url, violations)


def first_wednesday_after(day: date) -> date:
    return day + timedelta(days=(2 - day.weekday()) % 7 or 7)


async def book_on_public_site(
    page: Page, base: str, event_id: int, name: str, email: str, organisation: str = ""
) -> None:
    await page.goto(f"{base}/events/{event_id}")
    await accessible(page, base)
    await fill_booking(page, name, email)
    if organisation:
        await page.locator("input[name=organisation]").fill(organisation)
    await page.get_by_role("button", name="Boka plats").click()
    await page.get_by_role("heading", level=1, name=RECEIVED).wait_for()
    await accessible(page, base)


def invites_to(mailbox: LocalMailbox, email: str, ids: set[str]) -> list[icalendar.Calendar]:
    """The calendars carried by the mails to `email` among the mailbox entries `ids`."""
    found = []
    for entry in mailbox.list():
        if entry.id in ids and email in entry.to:
            ics = mailbox.invite(entry.id)
            if ics is not None:
                found.append(icalendar.Calendar.from_ical(ics))
    return found


def sequence_of(calendar: icalendar.Calendar) -> int:
    (vevent,) = calendar.walk("VEVENT")
    return int(str(vevent.get("SEQUENCE", 0)))


async def delivered(services: Services) -> set[str]:
    """Deliver whatever mail is due to the local mailbox; the ids it then holds."""
    await deliver_due(services)
    mailbox = LocalMailbox(services.settings.mailbox_dir)
    return {entry.id for entry in await asyncio.to_thread(mailbox.list)}


async def test_an_organiser_runs_a_series_from_the_browser(
    services: Services, visitor: Visitor
) -> None:
    base = visitor.base
    await add(services, ORGANISER)
    mailbox = LocalMailbox(services.settings.mailbox_dir)

    # -- Sign in ---------------------------------------------------------------------------
    page = await visitor.page()
    await page.goto(f"{base}/organiser/login")
    await accessible(page, base)
    await page.get_by_label("E-postadress").fill(ORGANISER)
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(f"{base}/organiser/")
    await accessible(page, base)

    # -- A series of four Wednesdays, previewed, then created --------------------------------
    await page.get_by_role("link", name="Ny serie").click()
    await page.wait_for_url(f"{base}/organiser/series/new")
    await accessible(page, base)
    first_day = first_wednesday_after(date.today() + timedelta(days=14))
    await page.get_by_label("Titel").fill(TITLE)
    await page.get_by_label("Adress (frivilligt)").fill("varens-lunchkafeer")
    await page.get_by_label("Antal platser per tillfälle").fill("30")
    await page.get_by_label("Länk till mötet").fill("https://meet.example.se/varkafe")
    await page.get_by_label("Första datum").fill(first_day.isoformat())
    await page.get_by_label("Börjar kl.").fill("12:00")
    await page.get_by_label("Slutar kl.").fill("13:00")
    await page.get_by_label("Antal tillfällen").fill("4")
    await page.get_by_role("button", name="Visa datumen").click()
    dates = page.locator("input[name=dates]")
    await page.get_by_role("button", name="Skapa serien").wait_for()
    assert await dates.count() == 4
    await accessible(page, base)
    for n in range(4):  # a holiday among them comes unticked; this series keeps all four
        await dates.nth(n).check()
    await page.get_by_role("button", name="Skapa serien").click()
    await page.get_by_text("Serien är skapad.").wait_for()
    await accessible(page, base)
    # The series' page lists its dates in order, each linking to its own page.
    first_link = page.locator("tbody th a").first
    first_id = int((await first_link.get_attribute("href") or "").rsplit("/", 1)[1])

    # -- Publish each of the four from its own page -------------------------------------------
    for _ in range(4):
        await page.goto(f"{base}/organiser/")
        draft = page.locator("tbody tr", has=page.locator("td", has_text="Utkast")).first
        await draft.get_by_role("link", name=TITLE, exact=True).click()
        await page.get_by_role("button", name="Publicera", exact=True).click()
        await page.get_by_text("Evenemanget är publicerat").wait_for()
        await accessible(page, base)
    await page.goto(f"{base}/organiser/")
    upcoming = page.get_by_role("region", name="Kommande evenemang")
    await upcoming.wait_for()
    assert await upcoming.locator("tbody tr", has_text="Publicerat").count() == 4
    assert await upcoming.locator("tbody tr", has_text="Utkast").count() == 0
    await accessible(page, base)

    # -- An attendee books the first date on the public site ----------------------------------
    attendee = await visitor.page()
    await book_on_public_site(attendee, base, first_id, *FIRST)

    # ...and the organiser sees the booking arrive on the event's attendee list.
    await page.goto(f"{base}/organiser/events/{first_id}")
    await page.get_by_role("link", name="Deltagare", exact=True).click()
    await page.wait_for_url(f"{base}/organiser/events/{first_id}/attendees")
    await page.get_by_role("heading", name="Bokade (1)").wait_for()
    booked = page.get_by_role("region", name="Bokade", exact=True)
    assert await booked.get_by_role("rowheader", name=FIRST[0]).count() == 1
    assert FIRST[1] in await booked.inner_text()
    await accessible(page, base)

    # -- Reschedule the date: a day later, 13.00-14.00; the preview counts who is told --------
    before = await delivered(services)
    (booking_invite,) = await asyncio.to_thread(invites_to, mailbox, FIRST[1], before)
    await page.goto(f"{base}/organiser/events/{first_id}")
    await page.get_by_role("link", name="Ändra tid, plats eller platser").click()
    await page.wait_for_url(f"{base}/organiser/events/{first_id}/change")
    await accessible(page, base)
    moved = first_day + timedelta(days=1)
    await page.get_by_label("Datum", exact=True).fill(moved.isoformat())
    await page.get_by_label("Börjar", exact=True).fill("13:00")
    await page.get_by_label("Slutar", exact=True).fill("14:00")
    await page.get_by_role("button", name="Förhandsgranska").click()
    await page.get_by_text("Så här blir ändringen").wait_for()
    assert "1 bekräftad får en uppdaterad kalenderinbjudan." in await page.inner_text("main")
    await accessible(page, base)
    await page.get_by_role("button", name="Bekräfta").click()
    await page.wait_for_url(f"{base}/organiser/events/{first_id}")
    await accessible(page, base)

    after = await delivered(services)
    (updated,) = await asyncio.to_thread(invites_to, mailbox, FIRST[1], after - before)
    (vevent,) = updated.walk("VEVENT")
    assert str(updated["METHOD"]) == "REQUEST"
    assert sequence_of(updated) > sequence_of(booking_invite)
    assert vevent.decoded("DTSTART") == datetime(
        moved.year, moved.month, moved.day, 13, tzinfo=STOCKHOLM
    )

    # -- A message, previewed, sent; its progress reaches "sent" without a reload -------------
    await page.get_by_role("link", name="Meddelanden och påminnelser").click()
    await page.wait_for_url(f"{base}/organiser/events/{first_id}/messages")
    await accessible(page, base)
    await page.get_by_label("De bekräftade (1)").check()
    await page.get_by_label("Ämne").fill("Ny tid för vårens första kafé")
    await page.get_by_label("Meddelande", exact=True).fill("Vi ses klockan 13 i stället.")
    await page.get_by_role("button", name="Förhandsgranska").click()
    send = page.get_by_role("button", name="Skicka till 1 person")
    await send.wait_for()
    preview = await page.inner_text("main")
    assert "Vi ses klockan 13 i stället." in preview
    assert FIRST[1] not in preview  # the preview shows one recipient's mail, not who they are
    await accessible(page, base)
    await send.click()
    await page.wait_for_url(re.compile(r".*/organiser/sends/\d+$"))
    progress = page.locator("#send-progress")
    assert await progress.locator("[data-field=queued]").inner_text() == "1"
    await accessible(page, base)
    await page.evaluate("window.notReloaded = true")
    await deliver_due(services)
    await progress.locator("[data-field=sent]").filter(has_text=re.compile(r"^1$")).wait_for()
    await progress.get_by_text("Klart: inget väntar på att skickas.").wait_for()
    assert await progress.locator("[data-field=queued]").inner_text() == "0"
    assert await page.evaluate("window.notReloaded === true")  # the same page, updated
    await accessible(page, base)

    # -- A second attendee books; both are checked in on a phone ------------------------------
    await book_on_public_site(attendee, base, first_id, *SECOND, organisation=FORMULA)
    await page.set_viewport_size(PHONE)
    await on_the_day(services, first_id)  # check-in opens on the day
    await page.goto(f"{base}/organiser/events/{first_id}/check-in")
    await accessible(page, base)
    counts = page.get_by_role("list", name="Räknat hittills")
    for name, _ in (FIRST, SECOND):
        row = page.get_by_role("listitem").filter(has=page.get_by_text(name, exact=True))
        await row.get_by_role("button", name="Närvarande").click()
        await row.get_by_role("button", name="Ångra").wait_for()
        assert "Närvarande" in await row.inner_text()
        await accessible(page, base)
    assert re.search(
        r"2\s+närvarande\s+0\s+uteblev\s+0\s+ej markerade", await counts.inner_text()
    ), await counts.inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # -- Export the CSV through the list's link and read it back -----------------------------
    await page.goto(f"{base}/organiser/events/{first_id}/attendees")
    await accessible(page, base)
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Ladda ner (CSV för Excel)").click()
    download = await download_info.value
    assert download.suggested_filename == f"deltagare-{first_id}.csv"
    path = await download.path()
    data = await asyncio.to_thread(path.read_bytes)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    header = rows[0]
    assert header[:4] == ["Status", "Plats i kön", "Namn", "E-postadress"]
    by_name = {row[header.index("Namn")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {FIRST[0], SECOND[0]}
    cell = by_name[SECOND[0]]["Organisation"]
    assert cell.startswith("'=cmd"), cell  # neutralised: Excel shows it as text
    assert by_name[FIRST[0]]["E-postadress"] == FIRST[1]
