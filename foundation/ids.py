"""One rule for ids in URLs: every `{name:id}` path parameter, pages and API alike.

Row ids are positive and live in PostgreSQL `integer` columns (32-bit signed), so an id is
a canonical decimal 1..2³¹−1. Anything else (0, leading zeros, 2³¹, 2⁶³, which overflowed
asyncpg and SQLite before reaching a query) never matches a route, so it is a plain 404 and
no handler has to parse it. Registered once with Starlette when this module is imported;
route modules import this module so the registration happens before their patterns compile.
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1
ID = "id"  # the convertor's name in route patterns: "/events/{event_id:id}"


def is_id(value: int) -> bool:
    """Whether `value` can be a row id (1..2**31-1); anything else is "not found" unasked."""
    return 1 <= value <= MAX_ID


def parse_id(text: str) -> int | None:
    """`text` as a row id when it is one as a route would take it (a canonical decimal
    1..2**31-1: ASCII digits, no sign, space or leading zero); None for anything else, so
    a form's or a query's value that is no id is never queried and never overflows."""
    if _ID_TEXT.fullmatch(text) is None:
        return None
    return int(text)


def decimal_range_regex(maximum: int) -> str:
    """A regular expression matching exactly the canonical decimals 1..`maximum`.

    Starlette matches the pattern before it converts, and an exception in `convert` would be
    a 500, so the range itself must live in the pattern.
    """
    digits = str(maximum)
    width = len(digits)
    # Every shorter number without a leading zero.
    branches = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    # Numbers as long as `maximum`: equal up to position i, smaller at i, anything after.
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            rest = f"[0-9]{{{width - i - 1}}}" if i < width - 1 else ""
            branches.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}]{rest}")
    branches.append(digits)
    return "(?:" + "|".join(branches) + ")"


class IdConvertor(Convertor[int]):
    regex = decimal_range_regex(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        number = int(value)
        assert 1 <= number <= MAX_ID, "an id is 1..2**31-1"
        return str(number)


register_url_convertor(ID, IdConvertor())
_ID_TEXT = re.compile(IdConvertor.regex)
