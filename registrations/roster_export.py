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
DATE_FORMAT = "%Y-%m-%d %H:%M"


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
        return cell.strftime(DATE_FORMAT)
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
                cell.value = value
                cell.number_format = "yyyy-mm-dd hh:mm"
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    for column, heading in enumerate(table.header, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(12, len(heading) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
