"""An event's list as files a spreadsheet opens right: CSV for Swedish Excel, and .xlsx.

No cell may become a formula: a name like `=cmd|' /C calc'!A0` would run when the file is
opened (CSV injection, OWASP). The CSV goes through defusedcsv, which prefixes a cell that
starts with = + - @ | % with an apostrophe; cells starting with a tab or a carriage return,
which Excel also reads as the start of a formula, get the same. In the .xlsx every text is
stored with the string type, which Excel never evaluates.
"""

from __future__ import annotations

import io
from datetime import datetime

from defusedcsv import csv
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.utils import get_column_letter

from registrations.roster import Cell, ExportTable

# Swedish Excel reads a CSV as UTF-8 only after a byte order mark, and splits columns on
# `;` (the list separator where the decimal sign is a comma).
BOM = "\ufeff"


def to_csv(table: ExportTable) -> bytes:
    """UTF-8 with a BOM, `;` between cells, CRLF after every row (RFC 4180 §2)."""
    out = io.StringIO(newline="")
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        # ISO 8601 with the offset (2027-10-31 02:30+02:00): the site's wall clock, and which
        # of the two 02.30s of the night the clocks go back.
        return cell.isoformat(sep=" ", timespec="minutes")
    text = str(cell)
    # defusedcsv leaves these two alone; Excel does not.
    return "'" + text if text[:1] in ("\t", "\r") else text


def to_xlsx(table: ExportTable) -> bytes:
    """One sheet named after nothing the organiser typed, the header row frozen; texts as
    strings, times as dates, places in line as numbers."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Deltagare"
    sheet.append(list(table.header))
    for number, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            if isinstance(value, str):
                # Assigning a text that starts with "=" makes openpyxl write a formula;
                # the string type is set after, so it is stored as the text it is.
                cell.value = value
                cell.data_type = TYPE_STRING
            elif isinstance(value, datetime):
                # Excel's dates have no zone: the wall clock as the date (sorted and computed
                # with as one), its offset shown after it as the format's literal text.
                cell.value = value.replace(tzinfo=None)
                cell.number_format = f'yyyy-mm-dd hh:mm"{_offset(value)}"'
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    for column, heading in enumerate(table.header, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(12, len(heading) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _offset(moment: datetime) -> str:
    """`+02:00` for an aware datetime, as ISO 8601 writes it after a time."""
    return moment.isoformat(timespec="minutes")[-6:]
