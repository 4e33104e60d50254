"""`lunchkafe guide export` and `lunchkafe guide import` (guide.bulk), through the command
line's own parser and error handling, on SQLite and PostgreSQL: an export read into an empty
guide exports the same again (JSON and CSV); a second import changes nothing; bad rows are
named by line and field and nothing of the file is kept; bad files get one sentence, never a
traceback; no exported cell opens as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from foundation.services import Services
from guide import bulk
from guide.editing import (
    ChallengeInput,
    ExampleInput,
    delete_challenge,
    delete_example,
    delete_process,
    delete_tip,
    save_challenge,
    save_example,
)
from guide.errors import InvalidExample
from guide.models import Challenge, GuideExample, GuideProcess, GuideTip
from lunchkafe.cli import build_parser, run_command
from lunchkafe.demo import load_demo


async def cli(services: Services, *argv: str) -> tuple[int, str, str]:
    """One run of the command in this process; an exception escaping it fails the test, as
    it would print a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            args = build_parser().parse_args(list(argv))
        except SystemExit as exit:
            return (exit.code if isinstance(exit.code, int) else 1), out.getvalue(), err.getvalue()
        code = await run_command(services, args)
    return code, out.getvalue(), err.getvalue()


async def export(services: Services, *argv: str) -> str:
    code, out, err = await cli(services, "guide", "export", *argv)
    assert code == 0, err
    return out


async def counts(services: Services) -> list[int]:
    async with services.transaction() as session:
        return [
            int(await session.scalar(select(func.count()).select_from(kind)) or 0)
            for kind in (Challenge, GuideExample, GuideTip, GuideProcess)
        ]


async def empty_the_guide(services: Services) -> None:
    document = json.loads(await export(services))
    async with services.transaction() as session:
        for kind, delete in (
            ("processes", delete_process),
            ("tips", delete_tip),
            ("examples", delete_example),
            ("challenges", delete_challenge),
        ):
            for item in document[kind]:
                assert await delete(session, item["slug"])
    assert await counts(services) == [0, 0, 0, 0]


async def test_an_export_read_into_an_empty_guide_exports_the_same(
    services: Services, tmp_path: Path
) -> None:
    await load_demo(services, only_if_empty=False)
    first = await export(services)
    document = json.loads(first)
    assert len(document["challenges"]) == 9
    assert any(p["slug"] == "platsutveckling-i-sex-steg" for p in document["processes"])
    csv_files = []
    for kind in bulk.KINDS:
        path = tmp_path / f"{kind}.csv"
        path.write_text(await export(services, "--format", "csv", "--kind", kind), "utf-8")
        csv_files.append(path)
    (tmp_path / "guide.json").write_text(first, "utf-8")
    total = sum(len(items) for items in document.values())

    await empty_the_guide(services)
    code, out, err = await cli(services, "guide", "import", str(tmp_path / "guide.json"))
    assert (code, err) == (0, "")
    assert out.strip() == f"imported: {total} new, 0 changed, 0 unchanged"
    assert await export(services) == first
    code, out, _ = await cli(services, "guide", "import", str(tmp_path / "guide.json"))
    assert out.strip() == f"imported: 0 new, 0 changed, {total} unchanged"
    assert await export(services) == first

    # The same through CSV, one kind per file, in the order their references need.
    await empty_the_guide(services)
    for path in csv_files:
        code, out, err = await cli(services, "guide", "import", str(path))
        assert code == 0, err
    assert await export(services) == first
    for path in csv_files:
        code, out, err = await cli(services, "guide", "import", str(path))
        assert code == 0, err
        assert " 0 new, 0 changed" in out
    assert await export(services) == first


EXAMPLE_HEADER = ";".join(bulk.columns("examples"))


def example_row(slug: str, **cells: str) -> str:
    values = {
        "slug": slug,
        "title": "Strukturbild",
        "organisation": "Region Sörmland",
        "organisation_type": "region",
        "summary": "En gemensam bild.",
        "contact_name": "Maja Lindgren",
        "contact_email": "maja@example.se",
        "language": "sv",
        **cells,
    }
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerow(
        [values.get(name, "") for name in bulk.columns("examples")]
    )
    return buffer.getvalue()


async def test_bad_rows_are_named_by_line_and_field_and_nothing_is_imported(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "examples.csv"
    path.write_text(
        EXAMPLE_HEADER
        + "\r\n"
        + example_row("bra", activities="Workshoppar\nGemensam analys")  # lines 2-3
        + example_row("utan-titel", title="")  # line 4
        + example_row("fel-adress", contact_email="inte en adress", inhabitants="många")
        + example_row("bra")  # line 6: the same slug again
        + example_row("okand-utmaning", challenges="finns-inte"),  # line 7
        "utf-8",
    )
    code, out, err = await cli(services, "guide", "import", str(path))
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert "lunchkafe: line 4 (utan-titel), title: Ange en titel." in lines
    assert "lunchkafe: line 5 (fel-adress), inhabitants: Måste vara ett heltal." in lines
    assert any(line.startswith("lunchkafe: line 6 (bra), slug: ") for line in lines)
    assert "lunchkafe: line 7 (okand-utmaning), challenges: Utmaningen på rad 1 finns inte." in (
        lines
    )
    assert lines[-1] == "lunchkafe: 4 faults; nothing imported"
    assert "Traceback" not in err
    assert await counts(services) == [0, 0, 0, 0]  # not even the good row on line 2

    # The contact address is checked once its row's types are right.
    path.write_text(EXAMPLE_HEADER + "\n" + example_row("fel", contact_email="x"), "utf-8")
    code, _, err = await cli(services, "guide", "import", str(path))
    assert code == 1
    assert "line 2 (fel), contact_email: Ange en giltig e-postadress" in err

    # A process's fault names its step's own line; a JSON item its place in the list.
    process = tmp_path / "processes.csv"
    rows = [
        ["slug", "title", "summary", "challenges", "published_on", "updated_on"],
        ["p", "Process", "", "", "", ""],
        ["p", "", "", "", "", ""],
    ]
    steps = [["phase", "checkpoint", "step", "step_text", "step_examples"]]
    steps += [["Fas 1", "Kontroll", "Steg 1", "", ""], ["Fas 1", "", "", "", ""]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(a + b for a, b in zip(rows, steps, strict=True))
    process.write_text(buffer.getvalue(), "utf-8")
    code, _, err = await cli(services, "guide", "import", str(process))
    assert code == 1
    assert "line 3 (p), phases.0.steps.1.title: Ange en titel." in err
    document = tmp_path / "bad.json"
    document.write_text(json.dumps({"tips": [{"slug": "t", "number": "2", "title": "T"}]}))
    code, _, err = await cli(services, "guide", "import", str(document))
    assert code == 1
    assert "tips[0] (t), number: Måste vara ett heltal." in err
    assert await counts(services) == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("latin1.json", b"{}" + "å".encode("latin-1"), "not UTF-8"),
        ("broken.json", b'{"examples": [', "not JSON"),
        ("list.json", b"[]", "not a guide document"),
        ("extra.json", b'{"events": []}', "unknown member 'events'"),
        ("columns.csv", b"slug;namn\nx;y\n", "the columns are no kind's"),
        ("short.csv", f"{EXAMPLE_HEADER}\nx;y\n".encode(), "line 2 has 2 cells"),
        ("empty.csv", b"", "the file is empty"),
        ("huge.json", b" " * (bulk.MAX_FILE_BYTES + 1), "larger than 20 MB"),
    ],
)
async def test_a_file_that_cannot_be_read_gets_one_sentence(
    services: Services, tmp_path: Path, name: str, content: bytes, said: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = await cli(services, "guide", "import", str(path))
    assert code == 1
    assert out == ""
    assert said in err
    assert err.strip().endswith("nothing imported")
    assert len(err.splitlines()) == 1


async def test_a_missing_file_and_csv_of_every_kind_are_refused_in_words(
    services: Services, tmp_path: Path
) -> None:
    code, _, err = await cli(services, "guide", "import", str(tmp_path / "nowhere.json"))
    assert code == 1
    assert "cannot read" in err
    assert "No such file" in err
    code, _, err = await cli(services, "guide", "export", "--format", "csv")
    assert code == 1
    assert "CSV holds one kind" in err
    code, _, err = await cli(services, "guide", "export", "--kind", "events")
    assert code == 2
    assert "invalid choice" in err


FORMULAS = ['=HYPERLINK("http://evil.example";"klicka")', "+1+1", "-2+3", "@SUM(A1)", "%x|y"]


async def test_no_exported_cell_starts_a_formula_and_the_text_comes_back(
    services: Services, tmp_path: Path
) -> None:
    async with services.transaction() as session:
        await save_challenge(session, ChallengeInput("c", "=1+1", description="|cmd"))
        await save_example(
            session,
            ExampleInput(
                slug="formler",
                title=FORMULAS[0],
                organisation=FORMULAS[1],
                organisation_type="kommun",
                summary=FORMULAS[2],
                contact_name="Ada Berg",
                contact_role=FORMULAS[3],
                contact_phone="08-123 45 67",
                activities=FORMULAS,
                challenges=["c"],
                region="'citerad",
            ),
        )
    before = await export(services)
    for kind in ("challenges", "examples"):
        text = await export(services, "--format", "csv", "--kind", kind)
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "|", "%", "\t", "\r"), cell
        (tmp_path / f"{kind}.csv").write_text(text, "utf-8")
    await empty_the_guide(services)
    for kind in ("challenges", "examples"):
        code, _, err = await cli(services, "guide", "import", str(tmp_path / f"{kind}.csv"))
        assert code == 0, err
    assert await export(services) == before


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=st.text(min_size=1, max_size=60), item=st.text(max_size=30))
@example(title="=cmd|' /C calc'!A0", item="'=x")
@example(title="-1", item="\t=1")
async def test_any_cell_text_survives_csv_and_never_opens_as_a_formula(
    services: Services, tmp_path: Path, title: str, item: str
) -> None:
    data = ExampleInput(
        slug="exempel",
        title=title,
        organisation="Kommunen",
        organisation_type="kommun",
        summary="Kort.",
        contact_name="Ada Berg",
        contact_email="ada@example.se",
        lessons=[item],
    )
    try:
        async with services.transaction() as session:
            await save_example(session, data)
    except InvalidExample:
        return  # text the guide refuses anyway (control characters, too long)
    try:
        before = await export(services)
        text = await export(services, "--format", "csv", "--kind", "examples")
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
            assert all(c[:1] not in ("=", "+", "@", "|", "%", "\t", "\r") for c in row)
            # defusedcsv leaves a negative number a number
            assert all(c[:1] != "-" or re.fullmatch(r"-[0-9,.]+", c) for c in row)
        path = tmp_path / "examples.csv"
        path.write_text(text, "utf-8")
        async with services.transaction() as session:
            assert await delete_example(session, "exempel")
        code, _, err = await cli(services, "guide", "import", str(path))
        assert code == 0, err
        assert await export(services) == before
    finally:
        async with services.transaction() as session:
            await delete_example(session, "exempel")
