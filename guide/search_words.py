"""The words of a text as the guide's search reads them, the same for both databases: Unicode
NFKC, lower case, runs of letters and digits, each at its position (stop words keep theirs,
as in PostgreSQL's tsvector), Snowball's Swedish stop words dropped and the rest stemmed by
snowballstemmer's Swedish stemmer.

PostgreSQL indexes these same words (joined by spaces) with its `swedish` configuration, so
both databases read a text word by word alike; see guide.search for how stems compare.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

# Snowball's Swedish stop list, the one PostgreSQL ships as tsearch_data/swedish.stop
# (https://snowballstem.org/algorithms/swedish/stop.txt), copied here as data so that both
# databases drop the same words: PostgreSQL's `swedish` configuration drops these itself.
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
MAX_WORD = 100  # characters: a longer "word" is not one, and is not indexed (nor searched)
MAX_POSITION = 16383  # PostgreSQL's highest tsvector position; later words share it
STEM_CACHE = 1 << 16  # words whose stems are remembered (a word is at most MAX_WORD characters)
_WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"([0-9]+e[0-9]+)([^0-9].*)")  # the rest starts with no digit
_STEMMER = snowballstemmer.stemmer("swedish")
_STEMMER_LOCK = threading.Lock()


def words(value: str) -> list[str]:
    """`value`'s words: letters and digits, lower-cased, read after NFKC (an å typed as a and
    a combining ring is the one letter å, full-width letters are plain ones), a number in
    e-notation split from what follows it as PostgreSQL's parser splits it."""
    # NFKC again after lower(): a few capitals lower to a letter and a combining mark.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).lower())
    return [w for found in _WORD.findall(folded) for w in _read(found) if len(w) <= MAX_WORD]


def _read(word: str) -> tuple[str, ...]:
    """`word` as PostgreSQL's parser reads it: a number in e-notation (digits, "e", digits)
    followed by more ("12e3kommunerna", "1e10x") is two words, the number and the rest."""
    number = _NUMBER.fullmatch(word) if word[0] in "0123456789" else None
    return number.groups() if number else (word,)


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str | None:
    """The stem of one word from `words`, or None for a stop word. Remembered: a text's
    words are few and repeat (a search ranks its hits by their stems), and Snowball in pure
    Python is slow."""
    if word in STOP_WORDS:
        return None
    with _STEMMER_LOCK:  # a snowballstemmer stemmer keeps its word in itself: one at a time
        return str(_STEMMER.stemWord(word))


def stems(value: str) -> list[str]:
    """The stems of `value`'s words that are not stop words, in order."""
    return [s for s in map(stem, words(value)) if s is not None]


def positioned(
    value: str, start: int = 0, only: tuple[str, ...] | None = None
) -> Iterator[tuple[int, str]]:
    """(position, stem) of each word that is not a stop word, counting from `start` + 1 with
    stop words taking a position, as PostgreSQL's to_tsvector numbers them. Given `only`
    (stems), a word that does not begin with one of them is passed over unstemmed: its stem
    cannot begin with one either (a Swedish Snowball stem is the start of its word)."""
    for n, word in enumerate(words(value), start + 1):
        if only is not None and not word.startswith(only):
            continue
        found = stem(word)
        if found is not None:
            yield min(n, MAX_POSITION), found
