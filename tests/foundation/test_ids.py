"""One way to read an id typed or sent as text (foundation.ids.parse_id): the canonical
decimals a route's `{name:id}` takes, 1..2³¹−1, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import foundation
from foundation.ids import MAX_ID, IdConvertor, parse_id

ROOT = Path(foundation.__file__).resolve().parent.parent


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_id_reads_as_itself(number: int) -> None:
    assert parse_id(str(number)) == number


@given(st.text(max_size=14))
def test_text_reads_as_an_id_exactly_when_a_route_would_take_it(text: str) -> None:
    routed = re.fullmatch(IdConvertor.regex, text) is not None
    assert (parse_id(text) is not None) == routed
    if routed:
        assert parse_id(text) == int(text)


def test_what_is_no_id() -> None:
    for text in ("", "0", "01", "-1", "+1", " 1", "1 ", "2147483648", "9" * 40, "²", "١٢", "1e3"):
        assert parse_id(text) is None, text
    assert parse_id(str(MAX_ID)) == MAX_ID


def test_ids_are_read_one_way_in_the_workspace_and_the_log() -> None:
    """No module reads an id with a hand-written isdigit() check of its own any more."""
    hand_written = re.compile(r"isdigit\(\) and (is_id\(|len\(\w+\) <= (10|_DIGITS))")
    found = [
        str(path.relative_to(ROOT))
        for package in ("organisers", "web", "events", "registrations", "guide", "notices")
        for path in (ROOT / package).glob("*.py")
        if hand_written.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
