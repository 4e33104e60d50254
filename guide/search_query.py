"""What a person types into the guide's search, read as PostgreSQL's websearch_to_tsquery
reads it, the same for both databases: words (all of them must be found), "a quoted phrase"
(its words next to each other, in order), OR between alternatives and -word or -"phrase" to
leave out what holds it. Every word is a Swedish stem matched as a prefix, so "landsbygd"
finds "landsbygdsutveckling" (websearch_to_tsquery has no prefixes, hence this module).

Any text is a query: an unbalanced quote runs to the end, a lone '-' and OR with nothing on
one side are ignored, and the characters either query language treats as operators (FTS5's
* ^ : ( ) and NEAR, tsquery's & | ! < > : * ') are no word, so never reach either language.
Stop words are dropped (a phrase keeps their places); an alternative of stop words only, or
of exclusions only, finds nothing, so a query may have nothing left to search for.

The words are stemmed by snowballstemmer (guide.search_words.stem) unless the caller gives
other stems: on PostgreSQL guide.search asks the server for them (`query_words`), so a
query's stems are those its index was built with, whatever the server's Snowball version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from guide.search_words import stem, words

MAX_QUERY = 200  # characters of a query that are read; the rest is ignored
MAX_WORDS = 12  # stems searched for; later words are ignored
# A piece: dashes (leave out) before "a phrase" (to the closing quote or the end) or a run of
# anything else up to a space or a quote.
_PIECE = re.compile(r'(-*)(?:"([^"]*)"?|([^\s"]+))')


@dataclass(frozen=True)
class Part:
    """A word or phrase: its stems with the distance of each from the one before (the first
    has 0), and whether what holds it is left out."""

    stems: tuple[str, ...]
    gaps: tuple[int, ...]
    excluded: bool = False


@dataclass(frozen=True)
class Query:
    """Alternatives (OR), each the parts that must all hold (AND)."""

    alternatives: tuple[tuple[Part, ...], ...]

    @property
    def terms(self) -> list[str]:
        """The distinct stems to find (not those left out), in order: what ranks and is
        highlighted."""
        found = (s for alt in self.alternatives for p in alt if not p.excluded for s in p.stems)
        return list(dict.fromkeys(found))


Stemmer = Callable[[str], str | None]  # a word's stem, None for a stop word


def _part(typed: str, excluded: bool, stem_of: Stemmer) -> Part | None:
    # Stop words keep their places: "strukturbild för sörmland" is two words two apart.
    placed = [(n, s) for n, s in enumerate(map(stem_of, words(typed))) if s is not None]
    if not placed:
        return None
    gaps = (0, *(n - before for (before, _), (n, _) in pairwise(placed)))
    return Part(tuple(s for _, s in placed), gaps, excluded)


def query_words(typed: str) -> list[str]:
    """The words `parse` stems in `typed` (each once, in order), for a stemmer to be asked
    about them all at once."""
    found = (
        w
        for match in _PIECE.finditer(typed[:MAX_QUERY])
        for w in words(match.group(2) if match.group(2) is not None else match.group(3))
    )
    return list(dict.fromkeys(found))


def parse(typed: str, stem_of: Stemmer = stem) -> Query:
    """`typed` as a query, its words stemmed by `stem_of` (snowballstemmer unless given);
    never raises."""
    alternatives: list[tuple[Part, ...]] = []
    current: list[Part] = []
    budget = MAX_WORDS
    for match in _PIECE.finditer(typed[:MAX_QUERY]):
        dashes, quoted, bare = match.groups()
        if not dashes and bare is not None and bare.casefold() == "or":
            alternatives.append(tuple(current))
            current = []
            continue
        part = _part(quoted if quoted is not None else bare, bool(dashes), stem_of)
        if part is None or budget <= 0:
            continue
        current.append(Part(part.stems[:budget], part.gaps[:budget], part.excluded))
        budget -= len(part.stems)
    alternatives.append(tuple(current))
    return Query(
        tuple(alt for alt in alternatives if any(not p.excluded for p in alt)),
    )


def tsquery(query: Query) -> str:
    """`query` as a tsquery (cast, not parsed by a configuration: the stems are final), each
    stem a prefix; empty when there is nothing to search for."""

    def phrase(part: Part) -> str:
        text = "".join(
            (f" <{gap}> " if gap > 1 else " <-> ") * (n > 0) + f"'{s}':*"
            for n, (s, gap) in enumerate(zip(part.stems, part.gaps, strict=True))
        )
        return f"!({text})" if part.excluded else f"({text})"

    return " | ".join("(" + " & ".join(map(phrase, alt)) + ")" for alt in query.alternatives)


def fts5(query: Query) -> str:
    """An FTS5 query for what may match `query` (each alternative's stems, as prefixes);
    phrases and exclusions are then checked by `holds`. Each stem is quoted, so no FTS5
    operator can hide in it."""
    return " OR ".join(
        "(" + " AND ".join(f'"{s}"*' for p in alt if not p.excluded for s in p.stems) + ")"
        for alt in query.alternatives
    )


def holds(query: Query, positions: Mapping[str, Sequence[int]]) -> bool:
    """Whether a document whose stems are at `positions` matches `query`, as PostgreSQL's
    `@@` decides it for the tsquery above."""
    return any(
        all(_found(p, positions) != p.excluded for p in alternative)
        for alternative in query.alternatives
    )


def _at(term: str, positions: Mapping[str, Sequence[int]]) -> set[int]:
    return {n for s, at in positions.items() if s.startswith(term) for n in at}


def _found(part: Part, positions: Mapping[str, Sequence[int]]) -> bool:
    reached: Iterable[int] = _at(part.stems[0], positions)
    for term, gap in zip(part.stems[1:], part.gaps[1:], strict=True):
        reached = _at(term, positions) & {n + gap for n in reached}
    return bool(reached)
