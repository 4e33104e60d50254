"""The guide's search index in PostgreSQL's `swedish` configuration, without stop words on
either database (issue 12, item 2, after review).

PostgreSQL: the generated tsvector is built by the `swedish` configuration from the words
(was: the `simple` configuration over stems made in Python). SQLite: the FTS5 table keeps its
shape and holds the stems without Snowball's Swedish stop words. Both are filled from the
tables. Everything this needs is written out here, as it was on this day: a migration must
not call the app's code, which changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 20:00:00.000000
"""

import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
from alembic import op
from sqlalchemy import text

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Snowball's Swedish stop list (PostgreSQL's tsearch_data/swedish.stop).
_SNOWBALL_SWEDISH_STOP = """
    och det att i en jag hon som han på den med var sig för så till är men ett om hade de av
    icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde
    något från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla under
    någon eller allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt ni bli
    blev oss din dessa några deras blir mina samma vilken er sådan vår blivit dess inom mellan
    sådant varför varje vilka ditt vem vilket sitta sådana vart dina vars vårt våra ert era
    vilkas
    """
STOP_WORDS = frozenset(_SNOWBALL_SWEDISH_STOP.split())
_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("swedish")


def _words(value: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).lower())
    return [w for w in _WORD.findall(folded) if len(w) <= 100]


def _stems(value: str) -> list[str]:
    return [str(_STEMMER.stemWord(w)) for w in _words(value) if w not in STOP_WORDS]


def _stems_0011(value: str) -> list[str]:
    found = _WORD.findall(unicodedata.normalize("NFKC", value))
    return [str(s) for s in _STEMMER.stemWords([w.lower() for w in found])]


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _joined(parts: Sequence[Any]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, list):
            out.extend(str(p) for p in part)
        elif part:
            out.append(str(part))
    return "\n".join(out)


def _documents(connection: Any) -> Iterator[tuple[str, int, str, str]]:
    """(kind, id, title, text) of every example, tip and process, its challenges' names
    last."""
    names: dict[tuple[str, int], list[str]] = {}
    for kind, table, column in (
        ("example", "guide_example_challenges", "example_id"),
        ("tip", "guide_tip_challenges", "tip_id"),
        ("process", "guide_process_challenges", "process_id"),
    ):
        rows = connection.execute(
            text(
                f"SELECT l.{column}, c.name FROM {table} l"  # noqa: S608 (names above)
                " JOIN challenges c ON c.id = l.challenge_id ORDER BY c.name"
            )
        )
        for item_id, name in rows:
            names.setdefault((kind, int(item_id)), []).append(str(name))
    examples = connection.execute(
        text(
            "SELECT id, title, organisation, region, summary, body, activities, results,"
            " lessons, contact_name FROM guide_examples"
        )
    )
    for r in examples:
        parts = [r[2], r[3], r[4], r[5], _list(r[6]), _list(r[7]), _list(r[8]), r[9]]
        yield "example", r[0], r[1], _joined([*parts, *names.get(("example", r[0]), [])])
    for r in connection.execute(text("SELECT id, title, text, questions FROM guide_tips")):
        parts = [r[2], _list(r[3])]
        yield "tip", r[0], r[1], _joined([*parts, *names.get(("tip", r[0]), [])])
    for r in connection.execute(text("SELECT id, title, summary FROM guide_processes")):
        steps = connection.execute(
            text(
                "SELECT p.title, p.checkpoint, s.title, s.text FROM guide_process_phases p"
                " LEFT JOIN guide_process_steps s ON s.phase_id = p.id"
                " WHERE p.process_id = :id ORDER BY p.position, s.position"
            ),
            {"id": r[0]},
        )
        parts = list(dict.fromkeys([r[2]] + [v for step in steps for v in step if v]))
        yield "process", r[0], r[1], _joined([*parts, *names.get(("process", r[0]), [])])


def _fill(indexed: Callable[[str], list[str]]) -> None:
    connection = op.get_bind()
    connection.execute(text("DELETE FROM guide_search"))
    for kind, item_id, title, body in list(_documents(connection)):
        connection.execute(
            text(
                "INSERT INTO guide_search (kind, item_id, title, body)"
                " VALUES (:kind, :id, :title, :body)"
            ),
            {
                "kind": kind,
                "id": item_id,
                "title": " ".join(indexed(title)),
                "body": " ".join(indexed(body)),
            },
        )


def _table(configuration: str) -> None:
    op.execute("DROP TABLE guide_search")
    op.execute(
        "CREATE TABLE guide_search (kind varchar(10) NOT NULL, item_id integer NOT NULL,"
        " title text NOT NULL, body text NOT NULL, document tsvector GENERATED ALWAYS AS"
        f" (setweight(to_tsvector('{configuration}', title), 'A') ||"
        f" setweight(to_tsvector('{configuration}', body), 'B')) STORED,"
        " PRIMARY KEY (kind, item_id))"
    )
    op.execute("CREATE INDEX ix_guide_search_document ON guide_search USING gin (document)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _fill(_stems)
    else:
        _table("swedish")
        _fill(_words)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _table("simple")
    _fill(_stems_0011)
