"""The guide in bulk: one JSON document of every kind, or a CSV file of one kind, out and in.

Export (`export_document`, `export_csv`) writes each item in the input shape of
guide.editing (`*_input(row).as_json()`), so an export read back in saves every item
unchanged. Import (`read_document`, `read_csv`, then `import_items`) goes through the same
save functions as the workspace editor, in one transaction:

- every bad row is reported at once, each with where it stands (a CSV file's line, counted
  from 1 with the header as line 1; a JSON document's list and position, "examples[2]") and
  its field, and nothing is written when any row is bad (`ImportRefused`);
- items are keyed by slug, so importing the same file twice changes nothing the second time;
- a file that cannot be read at all (larger than MAX_FILE_BYTES, not UTF-8, not JSON, CSV
  columns that are no kind's) raises `BadFile` with one sentence saying why.

The JSON document: `{"challenges": [...], "examples": [...], "tips": [...], "processes":
[...]}`, each member optional, no other members (RFC 8259). CSV (RFC 4180 with `;` between
cells, UTF-8, a header row naming the columns): one kind per file, told by its columns (any
order); a list (activities, challenges, questions, example slugs …) has one item per line of
its cell (LIST_SEPARATOR: items are one-line texts, so a line break never occurs inside one);
an empty cell is an empty text or no value. A process takes one row per step, in order: its
own columns (slug, title, summary, challenges, dates) on its first row and either empty or
the same on the rest, a phase begun by each new `phase` title (or a repeated one after
another phase) with its `checkpoint` on its first row. On export every cell goes through
defusedcsv, so no cell starts a spreadsheet formula (CSV injection, OWASP).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from defusedcsv import csv
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.errors import N_, DomainError
from foundation.typed_body import MSG_INTEGER
from guide import catalogue, methods
from guide.editing import (
    ChallengeInput,
    ExampleInput,
    ProcessInput,
    TipInput,
    challenge_input,
    example_input,
    process_input,
    save_challenge,
    save_example,
    save_process,
    save_tip,
    tip_input,
)
from guide.json_shapes import MSG_DAY

KINDS = ("challenges", "examples", "tips", "processes")
MAX_FILE_BYTES = 20 * 1024 * 1024
LIST_SEPARATOR = "\n"
MSG_SLUG_TWICE = N_("Samma slug står redan på en rad längre upp.")
MSG_REFUSED = N_("Filen har fel; inget har importerats.")
MSG_OBJECT = N_("Måste vara ett objekt.")
MSG_DIFFERS = N_("Skiljer sig från processens första rad; lämna tomt eller skriv samma.")

Item = ChallengeInput | ExampleInput | TipInput | ProcessInput
_INPUTS: dict[str, type[ChallengeInput | ExampleInput | TipInput | ProcessInput]] = {
    "challenges": ChallengeInput,
    "examples": ExampleInput,
    "tips": TipInput,
    "processes": ProcessInput,
}
_LISTS = {"activities", "results", "lessons", "challenges", "questions", "examples"}
_INTEGERS = {"position", "inhabitants", "number"}
_OPTIONAL = {"inhabitants", "project_owner", "project_period", "funding", "source_url"}
_DATES = {"published_on", "updated_on"}
_DEFUSED = ("=", "+", "-", "@", "|", "%")
_OWN_QUOTED = ("\t", "\r", "'")
_PROCESS_OWN = ["slug", "title", "summary", "challenges", "published_on", "updated_on"]
_PROCESS_ROW = ["phase", "checkpoint", "step", "step_text", "step_examples"]


def columns(kind: str) -> list[str]:
    """The CSV header of `kind` ("challenges", "examples", "tips", "processes")."""
    if kind == "processes":
        return _PROCESS_OWN + _PROCESS_ROW
    return [f.name for f in fields(_INPUTS[kind])]


class BadFile(Exception):
    """The file cannot be read as an import at all; `str()` says why in one sentence."""


@dataclass(frozen=True)
class Fault:
    """One bad field: `where` ("line 4", "examples[2]"), the item's `slug` ("" when none),
    the `field` (a path for a process's parts: "phases.0.steps.1.title"), and its Swedish
    `message`."""

    where: str
    slug: str
    field: str
    message: str


class ImportRefused(DomainError):
    """Some rows are bad; `faults` names each. Nothing was written."""

    code = "invalid"

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = list(faults)
        super().__init__(
            MSG_REFUSED, fields={f"{f.where} {f.field}": f.message for f in self.faults}
        )


@dataclass(frozen=True)
class Row:
    """An item read from a file: where it stands, its input, and for a process the place of
    each step (phase, step) → where, so a step's fault names its own line."""

    where: str
    item: Item | None
    faults: tuple[Fault, ...] = ()
    steps: Mapping[tuple[int, int], str] | None = None


@dataclass(frozen=True)
class Outcome:
    """What an import did, counted per item: new, changed, or already as the file says."""

    created: int
    changed: int
    unchanged: int


# --- export -----------------------------------------------------------------------------------


async def export_document(
    session: AsyncSession, kinds: Iterable[str] = KINDS
) -> dict[str, list[dict[str, Any]]]:
    """Every item of `kinds` as JSON-ready values: challenges in the guide's order, examples
    and processes by title, tips by number."""
    wanted = set(kinds)
    document: dict[str, list[dict[str, Any]]] = {}
    if "challenges" in wanted:
        document["challenges"] = [
            challenge_input(c).as_json() for c in await catalogue.challenges(session)
        ]
    if "examples" in wanted:
        document["examples"] = [
            example_input(e).as_json() for e in await catalogue.examples(session)
        ]
    if "tips" in wanted:
        document["tips"] = [tip_input(t).as_json() for t in await methods.tips(session)]
    if "processes" in wanted:
        document["processes"] = [
            process_input(p).as_json() for p in await methods.processes(session)
        ]
    return document


def document_text(document: Mapping[str, Any]) -> str:
    """The document as UTF-8 JSON text, keys in a stable order, ending in a newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


async def export_csv(session: AsyncSession, kind: str) -> str:
    """Every item of `kind` as CSV text (`;`, CRLF line ends as RFC 4180 has them)."""
    items = (await export_document(session, [kind]))[kind]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(columns(kind))
    for item in items:
        if kind == "processes":
            for row in _process_rows(item):
                writer.writerow([_cell(v) for v in row])
        else:
            writer.writerow([_cell(item[name]) for name in columns(kind)])
    return out.getvalue()


def _process_rows(item: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    first = True
    for phase in item["phases"]:
        phase_first = True
        for step in phase["steps"]:
            own = [item[n] if first or n == "slug" else "" for n in _PROCESS_OWN]
            rows.append(
                [
                    *own,
                    phase["title"],
                    phase["checkpoint"] if phase_first else "",
                    step["title"],
                    step["text"],
                    step["examples"],
                ]
            )
            first = phase_first = False
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = LIST_SEPARATOR.join(str(v) for v in value) if isinstance(value, list) else str(value)
    # defusedcsv quotes a cell starting with = + - @ | % (and writes each | as \|); a tab
    # or carriage return first also opens a formula in some spreadsheets, so those get the
    # same quote, and so does a quote, so that reading takes exactly one off (_uncell).
    return "'" + text if text[:1] in _OWN_QUOTED else text


def _uncell(cell: str) -> str:
    """The text `_cell` and defusedcsv wrote `cell` for."""
    if cell[:1] != "'":
        return cell
    if cell[1:2] in _DEFUSED or cell[1:3] == "\\|":  # "|x" is written '\|x
        return cell[1:].replace("\\|", "|")
    return cell[1:] if cell[1:2] in _OWN_QUOTED else cell


# --- reading files ----------------------------------------------------------------------------


def _text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise BadFile(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(f"the file is not UTF-8 text (byte {exc.start + 1} is not)") from None


def read_document(data: bytes) -> list[Row]:
    """The items of a JSON document (see the module). Raises BadFile."""
    text = _text(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadFile(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise BadFile("not JSON this program reads: nested too deeply") from None
    if not isinstance(document, dict):
        raise BadFile('not a guide document: expected an object such as {"examples": [...]}')
    unknown = sorted(str(k) for k in document if k not in KINDS)
    if unknown:
        raise BadFile(
            f"unknown member {unknown[0][:40]!r}; a guide document has {', '.join(KINDS)}"
        )
    rows: list[Row] = []
    for kind in KINDS:
        items = document.get(kind) or []
        if not isinstance(items, list):
            raise BadFile(f"{kind!r} must be a list of objects")
        for n, value in enumerate(items):
            where = f"{kind}[{n}]"
            if not isinstance(value, dict):
                rows.append(Row(where, None, (Fault(where, "", "", MSG_OBJECT),)))
                continue
            slug = value.get("slug") if isinstance(value.get("slug"), str) else ""
            try:
                rows.append(Row(where, _INPUTS[kind].from_json(value)))
            except DomainError as exc:
                rows.append(Row(where, None, _faults(where, str(slug), exc.fields)))
    return rows


def read_csv(data: bytes) -> tuple[str, list[Row]]:
    """The kind a CSV file holds (told by its header) and its items. Raises BadFile."""
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise BadFile("the file is empty; its first line names the columns")
        kind = next((k for k in KINDS if sorted(columns(k)) == sorted(header)), None)
        if kind is None:
            raise BadFile(
                "the columns are no kind's: the first line must name, separated by ';', "
                + " or ".join(f"{k}: {';'.join(columns(k))}" for k in KINDS)
            )
        records: list[tuple[int, dict[str, str]]] = []
        start = reader.line_num + 1
        for cells in reader:
            if len(cells) != len(header):
                raise BadFile(
                    f"line {start} has {len(cells)} cells where the header has {len(header)}"
                )
            if any(c.strip() for c in cells):
                records.append((start, dict(zip(header, cells, strict=True))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise BadFile(f"not CSV this program reads: {exc} (line {reader.line_num})") from None
    if kind == "processes":
        return kind, _processes(records)
    return kind, [_flat_row(kind, line, cells) for line, cells in records]


def _flat_row(kind: str, line: int, cells: Mapping[str, str]) -> Row:
    where = f"line {line}"
    faults: dict[str, str] = {}
    values = {name: _value(name, cells[name], faults) for name in cells}
    if faults:
        return Row(where, None, _faults(where, cells.get("slug", ""), faults))
    try:
        return Row(where, _INPUTS[kind].from_json(values))
    except DomainError as exc:
        return Row(where, None, _faults(where, cells.get("slug", ""), exc.fields))


def _value(name: str, cell: str, faults: dict[str, str]) -> Any:
    cell = _uncell(cell)
    if name in _LISTS:
        return [item for item in cell.split(LIST_SEPARATOR) if item.strip()]
    if name in _INTEGERS:
        if not cell.strip():
            return None
        try:
            return int(cell.strip())
        except ValueError:
            faults[name] = MSG_INTEGER
            return None
    if name in _DATES:
        if not cell.strip():
            return None
        try:
            return date.fromisoformat(cell.strip()).isoformat()
        except ValueError:
            faults[name] = MSG_DAY
            return None
    if name in _OPTIONAL:
        return cell if cell.strip() else None
    return cell


def _processes(records: list[tuple[int, dict[str, str]]]) -> list[Row]:
    """Rows of steps grouped into processes by slug (a slug's rows need not be adjacent but
    keep their order), phases by each change of the `phase` cell."""
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, cells in records:
        grouped.setdefault(cells["slug"], []).append((line, cells))
    rows: list[Row] = []
    for slug, lines in grouped.items():
        first_line, first = lines[0]
        where = f"line {first_line}"
        faults: dict[str, str] = {}
        places: dict[str, str] = {}
        for line, cells in lines[1:]:
            for name in _PROCESS_OWN[1:]:
                if cells[name].strip() and cells[name] != first[name]:
                    faults[name] = MSG_DIFFERS
                    places[name] = f"line {line}"
        values: dict[str, Any] = {n: _value(n, first[n], faults) for n in _PROCESS_OWN}
        phases: list[dict[str, Any]] = []
        steps: dict[tuple[int, int], str] = {}
        previous: str | None = None
        for line, cells in lines:
            if not phases or cells["phase"] != previous:
                phases.append({"title": cells["phase"], "checkpoint": cells["checkpoint"]})
                phases[-1]["steps"] = []
                previous = cells["phase"]
            elif cells["checkpoint"].strip() and cells["checkpoint"] != phases[-1]["checkpoint"]:
                key = f"phases.{len(phases) - 1}.checkpoint"
                faults[key] = MSG_DIFFERS
                places[key] = f"line {line}"
            steps[(len(phases) - 1, len(phases[-1]["steps"]))] = f"line {line}"
            phases[-1]["steps"].append(
                {
                    "title": cells["step"],
                    "text": cells["step_text"],
                    "examples": _value("examples", cells["step_examples"], faults),
                }
            )
        values["phases"] = phases
        if faults:
            rows.append(Row(where, None, _faults(where, slug, faults, places=places, steps=steps)))
            continue
        try:
            rows.append(Row(where, ProcessInput.from_json(values), steps=steps))
        except DomainError as exc:
            rows.append(Row(where, None, _faults(where, slug, exc.fields, steps=steps)))
    return rows


def _faults(
    where: str,
    slug: str,
    found: Mapping[str, str],
    *,
    places: Mapping[str, str] | None = None,
    steps: Mapping[tuple[int, int], str] | None = None,
) -> tuple[Fault, ...]:
    """Each field's fault at its place: a step's own line when the field is in a step."""
    out = []
    for name, message in found.items():
        at = (places or {}).get(name) or _step_place(name, steps) or where
        out.append(Fault(at, slug, name, message))
    return tuple(out)


def _step_place(name: str, steps: Mapping[tuple[int, int], str] | None) -> str | None:
    parts = name.split(".")
    if steps is None or len(parts) < 2 or parts[0] != "phases" or not parts[1].isdigit():
        return None
    phase = int(parts[1])
    if len(parts) >= 4 and parts[2] == "steps" and parts[3].isdigit():
        return steps.get((phase, int(parts[3])))
    return steps.get((phase, 0))


# --- importing --------------------------------------------------------------------------------


async def import_items(session: AsyncSession, rows: Sequence[Row]) -> Outcome:
    """Save every row's item in the order given (challenges before what is filed under them,
    examples before the tips and steps that show them). Raises ImportRefused naming every
    bad row, after which the caller rolls back: nothing of the file is kept."""
    before = _keyed(await export_document(session))
    faults: list[Fault] = [f for row in rows for f in row.faults]
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.item is None:
            continue
        kind = _kind(row.item)
        if (kind, row.item.slug) in seen:
            faults.append(Fault(row.where, row.item.slug, "slug", MSG_SLUG_TWICE))
            continue
        seen.add((kind, row.item.slug))
        try:
            await _save(session, row.item)
        except DomainError as exc:
            faults.extend(_faults(row.where, row.item.slug, exc.fields, steps=row.steps))
    if faults:
        raise ImportRefused(faults)
    after = _keyed(await export_document(session))
    created = changed = 0
    for key in seen:
        if key not in before:
            created += 1
        elif before[key] != after.get(key):
            changed += 1
    return Outcome(created, changed, len(seen) - created - changed)


def _keyed(document: Mapping[str, list[dict[str, Any]]]) -> dict[tuple[str, str], Any]:
    return {(kind, item["slug"]): item for kind, items in document.items() for item in items}


def _kind(item: Item) -> str:
    return next(k for k, v in _INPUTS.items() if isinstance(item, v))


async def _save(session: AsyncSession, item: Item) -> None:
    if isinstance(item, ChallengeInput):
        await save_challenge(session, item)
    elif isinstance(item, ExampleInput):
        await save_example(session, item)
    elif isinstance(item, TipInput):
        await save_tip(session, item)
    else:
        await save_process(session, item)


__all__ = [
    "KINDS",
    "BadFile",
    "Fault",
    "ImportRefused",
    "Outcome",
    "Row",
    "columns",
    "document_text",
    "export_csv",
    "export_document",
    "import_items",
    "read_csv",
    "read_document",
]
