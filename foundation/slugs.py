"""One rule for slugs, the names in URLs of series and guide examples: `{name:slug}`.

A slug is 1–80 of a–z, 0–9 and "-", so it reads the same in every client and needs no
encoding. A path segment that is no slug never matches a route: it is a plain 404 and no
query runs with it (a NUL, say, which PostgreSQL refuses with an error rather than a miss).
Registered with Starlette when this module is imported; route modules import it first.
"""

from __future__ import annotations

import re
import string
import unicodedata

from starlette.convertors import Convertor, register_url_convertor

MAX_SLUG = 80
SLUG_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + "-")
SLUG = "slug"  # the convertor's name in route patterns: "/series/{slug:slug}"


def is_slug(value: str) -> bool:
    """Whether `value` can name a series or an example in a URL."""
    return 0 < len(value) <= MAX_SLUG and set(value) <= SLUG_CHARACTERS


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_from(title: str) -> str:
    """A slug made from `title` ("Lunchkaféer på Åland" → "lunchkafeer-pa-aland"): letters
    lose their marks (å, ä → a, ö → o, é → e), every run of anything else is one hyphen,
    cut to MAX_SLUG. "" when nothing of the title is left (a title of only symbols)."""
    bare = unicodedata.normalize("NFKD", title.casefold())
    letters = "".join(char for char in bare if not unicodedata.combining(char))
    return _NOT_SLUG.sub("-", letters).strip("-")[:MAX_SLUG].rstrip("-")


class SlugConvertor(Convertor[str]):
    regex = f"[a-z0-9-]{{1,{MAX_SLUG}}}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        assert is_slug(value), "a slug is 1-80 of a-z, 0-9 and -"
        return value


register_url_convertor(SLUG, SlugConvertor())
