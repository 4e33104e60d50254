"""The attendee list's files say when each person booked without ambiguity: on the night the
clocks go back (2027-10-31), 02.30 happens twice in Stockholm, and the files tell the two apart
while Excel still reads each time as a date."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl

from foundation.services import Services
from registrations import booking
from registrations.roster import export_table
from registrations.roster_export import to_csv, to_xlsx
from tests.conftest import SECRET
from tests.factories import make_event, person

# 02.30 in Stockholm, summer time (UTC+2), then an hour later 02.30 again, winter time (UTC+1).
FIRST = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
SECOND = FIRST + timedelta(hours=1)


async def booked_at_the_fold(services: Services) -> int:
    starts = datetime(2027, 11, 3, 11, 0, tzinfo=UTC)
    event = await make_event(
        services, starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=5
    )
    async with services.transaction() as session:
        for n, moment in ((1, FIRST), (2, SECOND)):
            await booking.book(
                session, event_id=event.id, attendee=person(n), secret_key=SECRET, now=moment
            )
    return event.id


async def test_the_csv_writes_each_booking_time_with_its_offset(services: Services) -> None:
    event_id = await booked_at_the_fold(services)
    async with services.transaction() as session:
        table = await export_table(session, event_id)
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig")), delimiter=";"))
    column = rows[0].index("Bokade")
    by_name = {row[2]: row[column] for row in rows[1:]}
    assert by_name == {
        "Person 1": "2027-10-31 02:30+02:00",
        "Person 2": "2027-10-31 02:30+01:00",
    }


async def test_the_xlsx_keeps_dates_and_shows_the_offset(services: Services) -> None:
    event_id = await booked_at_the_fold(services)
    async with services.transaction() as session:
        table = await export_table(session, event_id)
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(table))).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    column = header.index("Bokade") + 1
    cells = {sheet.cell(row=r, column=3).value: sheet.cell(row=r, column=column) for r in (2, 3)}
    for name, offset in (("Person 1", "+02:00"), ("Person 2", "+01:00")):
        cell = cells[name]
        # A date Excel sorts and computes with, in the site's wall time, shown with its offset.
        assert cell.is_date, name
        assert cell.value == datetime(2027, 10, 31, 2, 30)
        assert cell.number_format == f'yyyy-mm-dd hh:mm"{offset}"', name
