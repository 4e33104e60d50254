"""Swedish full-text search over the guide's examples, tips and processes.

On PostgreSQL the index is a table whose generated tsvector column (GIN-indexed) is built by
PostgreSQL's `swedish` text search configuration; on SQLite an FTS5 table with
`tokenize='unicode61 remove_diacritics 0'` (å, ä and ö kept: "far" never finds "får") holds
the stems snowballstemmer's Swedish stemmer gives (guide.search_words). Both read the same
words: PostgreSQL is given each text as guide.search_words reads it (NFKC, lower case, words
of letters and digits joined by spaces), and both drop Snowball's Swedish stop words. A query
(guide.search_query: phrases, OR, -word) is built as a tsquery on PostgreSQL and checked by
the same rules in Python on SQLite, each stem a prefix, so "landsbygd" finds
"landsbygdsutveckling". Each database stems a query's words as it stemmed the texts: on
PostgreSQL the server does (`query_of`: to_tsvector('swedish', word) for all of them in one
statement), so a server whose Snowball stems differently still finds what it indexed; on
SQLite snowballstemmer does. The project pins snowballstemmer>=2.2,<3, whose Swedish stems
equal PostgreSQL 15's on every word of the demo guide and 19,000 made-up ones
(tests/guide/test_search_syntax.py holds this for the demo guide; snowballstemmer 3 cuts
some -et endings shorter, "länet" to "län").
Hits are ranked from the index alone, the same on both databases (`scores`: each stem that
begins with a term, three times in the title, once in the rest, at most 256 a stem as a
tsvector keeps them; the server counts its tsvector on PostgreSQL, Python the stems FTS5
holds on SQLite), so a search reads and stems no text to rank; guide.finding reads only the
shown page's items for their snippets. On SQLite a phrase's candidates are checked word by
word (`holding`), off the event loop, stemming only words that begin with a query stem.

The index is kept in step by an `after_flush` listener on every ORM session: an example,
tip or process (or a phase or step of one) added, changed or deleted is re-indexed in the
same transaction, whoever saved it (guide.editing, the demo, an import).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import bindparam, event, text
from sqlalchemy.orm import Session

from guide.models import (
    Challenge,
    GuideExample,
    GuideProcess,
    GuideTip,
    ProcessPhase,
    ProcessStep,
)
from guide.search_query import Query, fts5, holds, parse, query_words, tsquery
from guide.search_words import MAX_POSITION, STEM_CACHE, STOP_WORDS, positioned, stems, words

KINDS = ("example", "tip", "process")
SNIPPET_WORDS = 30
IDS: Any = bindparam("ids", expanding=True)


@dataclass(frozen=True)
class Document:
    """What the index holds of one item: its title and the rest of its text."""

    kind: str
    item_id: int
    title: str
    body: str


def _joined(parts: Iterable[Any]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, list):
            out.extend(str(p) for p in part)
        elif part:
            out.append(str(part))
    return "\n".join(out)


# Each kind's table of challenges and its column naming the item: an item is found by the
# names of the challenges it is filed under ("förenkling" finds what is filed under Förenkling).
_CHALLENGE_LINKS = {
    "example": ("guide_example_challenges", "example_id"),
    "tip": ("guide_tip_challenges", "tip_id"),
    "process": ("guide_process_challenges", "process_id"),
}


def _challenge_names(connection: Any, kind: str, ids: Sequence[int]) -> dict[int, list[str]]:
    table, column = _CHALLENGE_LINKS[kind]
    rows = connection.execute(
        text(
            f"SELECT l.{column}, c.name FROM {table} l"  # noqa: S608 (names from the dict above)
            f" JOIN challenges c ON c.id = l.challenge_id WHERE l.{column} IN :ids"
            " ORDER BY c.name"
        ).bindparams(IDS),
        {"ids": list(ids)},
    )
    names: dict[int, list[str]] = {}
    for item_id, name in rows:
        names.setdefault(int(item_id), []).append(str(name))
    return names


def _linked_to(connection: Any, challenge_ids: Sequence[int]) -> dict[str, set[int]]:
    """The items filed under any of `challenge_ids`, by kind."""
    linked: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for kind, (table, column) in _CHALLENGE_LINKS.items():
        rows = connection.execute(
            text(
                f"SELECT {column} FROM {table} WHERE challenge_id IN :ids"  # noqa: S608
            ).bindparams(IDS),
            {"ids": list(challenge_ids)},
        )
        linked[kind].update(int(row[0]) for row in rows)
    return linked


def documents(connection: Any, kind: str, ids: Sequence[int]) -> list[Document]:
    """The documents of `kind` among `ids`, read from the tables (as flushed); the body ends
    with the names of the item's challenges."""
    if not ids:
        return []
    names = _challenge_names(connection, kind, ids)
    return [
        Document(doc.kind, doc.item_id, doc.title, _joined([doc.body, *names.get(doc.item_id, [])]))
        for doc in _documents(connection, kind, ids)
    ]


def _documents(connection: Any, kind: str, ids: Sequence[int]) -> list[Document]:
    params = {"ids": list(ids)}
    found: list[Document] = []
    if kind == "example":
        rows = connection.execute(
            text(
                "SELECT id, title, organisation, region, summary, body, activities, results,"
                " lessons, contact_name FROM guide_examples WHERE id IN :ids"
            ).bindparams(IDS),
            params,
        )
        for row in rows:
            lists = [_json_list(row[6]), _json_list(row[7]), _json_list(row[8])]
            found.append(
                Document(
                    kind, row[0], row[1], _joined([row[2], row[3], row[4], row[5], *lists, row[9]])
                )
            )
    elif kind == "tip":
        rows = connection.execute(
            text("SELECT id, title, text, questions FROM guide_tips WHERE id IN :ids").bindparams(
                IDS
            ),
            params,
        )
        for row in rows:
            found.append(Document(kind, row[0], row[1], _joined([row[2], _json_list(row[3])])))
    else:
        rows = connection.execute(
            text("SELECT id, title, summary FROM guide_processes WHERE id IN :ids").bindparams(IDS),
            params,
        )
        for row in rows:
            steps = connection.execute(
                text(
                    "SELECT p.title, p.checkpoint, s.title, s.text FROM guide_process_phases p"
                    " LEFT JOIN guide_process_steps s ON s.phase_id = p.id"
                    " WHERE p.process_id = :id ORDER BY p.position, s.position"
                ),
                {"id": row[0]},
            )
            parts = [row[2]] + [v for step in steps for v in step if v]
            found.append(Document(kind, row[0], row[1], _joined(dict.fromkeys(parts))))
    return found


def _json_list(value: Any) -> list[str]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def write(connection: Any, kind: str, ids: Sequence[int]) -> None:
    """Re-index the items `ids` of `kind` from their rows; an id with no row leaves the index."""
    if not ids:
        return
    for item_id in ids:
        connection.execute(
            text("DELETE FROM guide_search WHERE kind = :kind AND item_id = :id"),
            {"kind": kind, "id": item_id},
        )
    # PostgreSQL is given the words (its `swedish` configuration stems them and drops stop
    # words); FTS5 the stems of the words that are not stop words.
    indexed = stems if connection.dialect.name == "sqlite" else words
    for doc in documents(connection, kind, ids):
        connection.execute(
            text(
                "INSERT INTO guide_search (kind, item_id, title, body)"
                " VALUES (:kind, :id, :title, :body)"
            ),
            {
                "kind": doc.kind,
                "id": doc.item_id,
                "title": " ".join(indexed(doc.title)),
                "body": " ".join(indexed(doc.body)),
            },
        )


_KIND_OF: dict[type, str] = {GuideExample: "example", GuideTip: "tip", GuideProcess: "process"}


@event.listens_for(Session, "before_flush")
def _note_renamed_challenges(session: Session, _context: Any, _instances: Any) -> None:
    """Note the items filed under a challenge this flush renames or deletes (after a deletion
    its links are gone), for _keep_in_step to re-index."""
    ids = [
        obj.id
        for obj in (*session.dirty, *session.deleted)
        if isinstance(obj, Challenge) and obj.id is not None
    ]
    if ids:
        linked = _linked_to(session.connection(), ids)
        noted = session.info.setdefault("guide_search_linked", {k: set() for k in KINDS})
        for kind in KINDS:
            noted[kind].update(linked[kind])


@event.listens_for(Session, "after_flush")
def _keep_in_step(session: Session, _context: Any) -> None:
    """Re-index what this flush added, changed or deleted, in the same transaction."""
    touched: dict[str, set[int]] = session.info.pop(
        "guide_search_linked", {kind: set() for kind in KINDS}
    )
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = _KIND_OF.get(type(obj))
        if kind is not None and getattr(obj, "id", None) is not None:
            touched[kind].add(obj.id)
        elif isinstance(obj, ProcessPhase) and obj.process_id is not None:
            touched["process"].add(obj.process_id)
        elif isinstance(obj, ProcessStep) and obj.phase_id is not None:
            found = session.connection().execute(
                text("SELECT process_id FROM guide_process_phases WHERE id = :id"),
                {"id": obj.phase_id},
            )
            touched["process"].update(row[0] for row in found)
    if any(touched.values()):
        write_touched(session.connection(), touched)


def touched_by_deleting(connection: Any, kind: str, ids: Sequence[int]) -> dict[str, set[int]]:
    """What deleting the rows `ids` of `kind` ("example", "tip", "process" or "challenge")
    changes in the index: those items, or the items filed under those challenges. Read it
    before a bulk DELETE (which no flush event sees) and pass it to write_touched after."""
    if kind == "challenge":
        return _linked_to(connection, ids) if ids else {k: set() for k in KINDS}
    return {k: set(ids) if k == kind else set() for k in KINDS}


def write_touched(connection: Any, touched: dict[str, set[int]]) -> None:
    """Re-index every item in `touched` (kind → ids)."""
    for kind, ids in touched.items():
        write(connection, kind, sorted(ids))


def positions(doc: Document, only: tuple[str, ...] | None = None) -> dict[str, list[int]]:
    """Each stem of `doc` at its positions, numbered as PostgreSQL numbers the tsvector it
    indexes (the title's, then the body's after the title's last); given `only`, the stems
    that begin with one of those (the others' words are not stemmed)."""
    found: dict[str, list[int]] = {}
    for n, stem in positioned(doc.title, 0, only):
        found.setdefault(stem, []).append(n)
    # The title's last word that is not a stop word, whether or not it is among `only`.
    titled = enumerate(words(doc.title), 1)
    last = max((min(n, MAX_POSITION) for n, w in titled if w not in STOP_WORDS), default=0)
    for n, stem in positioned(doc.body, last, only):
        found.setdefault(stem, []).append(n)
    return found


# Each word's lexeme as the index's `swedish` configuration makes it (the first, should the
# server's parser read a word as two), or NULL for a stop word.
_SERVER_STEMS = text(
    "SELECT w, (SELECT u.lexeme FROM unnest(to_tsvector('swedish', w)) AS u"
    " ORDER BY u.positions[1] LIMIT 1) FROM unnest(CAST(:words AS text[])) AS w"
)


def query_of(connection: Any, typed: str) -> Query:
    """What a person typed as a query (guide.search_query.parse), its words stemmed as the
    index stemmed the texts: by the server on PostgreSQL, in one statement; by
    snowballstemmer on SQLite."""
    if connection.dialect.name == "sqlite":
        return parse(typed)
    asked = query_words(typed)
    if not asked:
        return parse(typed)
    found: dict[str, str | None] = {
        str(word): None if lexeme is None else str(lexeme)
        for word, lexeme in connection.execute(_SERVER_STEMS, {"words": asked})
    }
    return parse(typed, lambda word: found.get(word))


@dataclass(frozen=True)
class Candidates:
    """What the index found for a query: items that match, and (SQLite, a query with a
    phrase) texts still to be checked by `holding`, CPU work a caller may do off its event
    loop."""

    found: list[tuple[str, int]]
    to_check: list[Document]


def matching(connection: Any, query: Query) -> list[tuple[str, int]]:
    """(kind, id) of every indexed item that matches `query`: by the tsquery on PostgreSQL; on
    SQLite FTS5 finds those holding the stems, and the phrases and exclusions are checked
    here by the same rules (guide.search_query.holds)."""
    found = candidates(connection, query)
    return found.found + holding(query, found.to_check)


def candidates(connection: Any, query: Query) -> Candidates:
    """`matching`, but the texts of a phrase's candidates on SQLite are left to `holding`."""
    if not query.alternatives:
        return Candidates([], [])
    if connection.dialect.name != "sqlite":
        rows = connection.execute(
            text("SELECT kind, item_id FROM guide_search WHERE document @@ CAST(:q AS tsquery)"),
            {"q": tsquery(query)},
        )
        return Candidates([(str(row[0]), int(row[1])) for row in rows], [])
    # A query of single words is decided by which stems a text holds: the index's own
    # (no text read again nor stemmed). A phrase needs the words' places: the text's.
    by_stems = all(len(p.stems) == 1 for alt in query.alternatives for p in alt)
    rows = connection.execute(
        text(
            "SELECT kind, item_id, title, body FROM guide_search WHERE guide_search MATCH :q"
            if by_stems
            else "SELECT kind, item_id, '', '' FROM guide_search WHERE guide_search MATCH :q"
        ),
        {"q": fts5(query)},
    )
    found: list[tuple[str, int]] = []
    unsure: dict[str, list[int]] = {}
    for kind, item_id, title, body in rows:
        if not by_stems:
            unsure.setdefault(str(kind), []).append(int(item_id))
        elif holds(query, dict.fromkeys(f"{title} {body}".split(), (0,))):
            found.append((str(kind), int(item_id)))
    return Candidates(
        found, [doc for kind, ids in unsure.items() for doc in documents(connection, kind, ids)]
    )


def holding(query: Query, texts: Sequence[Document]) -> list[tuple[str, int]]:
    """(kind, id) of those `texts` that match `query`: only the words that begin with one of
    its stems (those left out too) are stemmed."""
    only = tuple({s for alt in query.alternatives for p in alt for s in p.stems})
    return [(doc.kind, doc.item_id) for doc in texts if holds(query, positions(doc, only))]


MAX_POSITIONS = 256  # a tsvector keeps a lexeme's first 256 positions (its title's first)

# Each item's relevance from its tsvector: each lexeme that begins with a term, once per such
# term, its positions in the title (weight A) three times, in the rest (B) once.
_SERVER_SCORES = text(
    "SELECT g.item_id, sum((SELECT 3 * count(*) FILTER (WHERE w = 'A')"
    " + count(*) FILTER (WHERE w = 'B') FROM unnest(u.weights) AS w))"
    " FROM guide_search g CROSS JOIN unnest(g.document) AS u"
    " JOIN unnest(CAST(:terms AS text[])) AS t(term) ON starts_with(u.lexeme, t.term)"
    " WHERE g.kind = :kind AND g.item_id IN :ids GROUP BY g.item_id"
).bindparams(IDS)


def scores(connection: Any, terms: Sequence[str], kind: str, ids: Sequence[int]) -> dict[int, int]:
    """The relevance of each item `ids` of `kind` (0 for one not indexed), from the index
    alone, no text read again nor stemmed: each of its stems that begins with one of `terms`
    counts, once per such term, three times in the title and once in the rest, as
    PostgreSQL's tsvector keeps them (at most MAX_POSITIONS a stem, the title's first). The
    server counts them on PostgreSQL; on SQLite they are counted in the stems FTS5 holds."""
    found = dict.fromkeys(ids, 0)
    if not ids or not terms:
        return found
    if connection.dialect.name != "sqlite":
        rows = connection.execute(
            _SERVER_SCORES, {"terms": list(terms), "kind": kind, "ids": list(ids)}
        )
        found.update({int(item_id): int(score) for item_id, score in rows})
        return found
    rows = connection.execute(
        text(
            "SELECT item_id, title, body FROM guide_search WHERE kind = :kind AND item_id IN :ids"
        ).bindparams(IDS),
        {"kind": kind, "ids": list(ids)},
    )
    prefixes = tuple(terms)
    for item_id, title, body in rows:
        in_title, in_body = Counter(title.split()), Counter(body.split())
        total = 0
        for s in {*in_title, *in_body}:
            if s.startswith(prefixes):
                first = min(in_title[s], MAX_POSITIONS)
                rest = min(in_body[s], MAX_POSITIONS - first)
                total += (3 * first + rest) * sum(s.startswith(t) for t in terms)
        found[int(item_id)] = total
    return found


def snippet(terms: Sequence[str], value: str, length: int = SNIPPET_WORDS) -> Markup:
    """A stretch of `value` around its first hit, escaped, each matching word in <mark>."""
    tokens = re.split(r"(\s+)", value.strip())
    words_at = [i for i, tok in enumerate(tokens) if tok and not tok.isspace()]
    hit = next(
        (n for n, i in enumerate(words_at) if matches(tokens[i], terms)),
        0,
    )
    start = max(0, hit - length // 3)
    chosen = words_at[start : start + length]
    if not chosen:
        return Markup("")
    parts: list[Markup] = [Markup("… ") if start > 0 else Markup("")]
    for i in range(chosen[0], chosen[-1] + 1):
        tok = tokens[i]
        if tok.isspace():
            parts.append(Markup(" "))
        elif matches(tok, terms):
            parts.append(Markup("<mark>{}</mark>").format(tok))  # format escapes `tok`
        else:
            parts.append(escape(tok))
    if start + length < len(words_at):
        parts.append(Markup(" …"))
    return Markup("").join(parts)


def matches(token: str, terms: Sequence[str]) -> bool:
    """Whether a word of the text (not a stop word) begins with one of the stems `terms`."""
    return any(s.startswith(t) for s in _token_stems(token) for t in terms)


@lru_cache(maxsize=STEM_CACHE)
def _token_stems(token: str) -> tuple[str, ...]:
    return tuple(stems(token))
