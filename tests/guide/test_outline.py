"""The process editor's text (guide.outline): a step's "Tillfällen:" and "Exempel:" lines are
read however they are typed, never saved as the step's public text."""

from __future__ import annotations

import unicodedata

import pytest

from guide.errors import InvalidProcess
from guide.outline import outline_text, read_outline

DECOMPOSED = unicodedata.normalize("NFD", "Tillfällen")  # "a" and a combining diaeresis


@pytest.mark.parametrize(
    "typed",
    ["Tillfällen: 5, 7", "tillfällen: 5, 7", "TILLFÄLLEN:5,7", f"{DECOMPOSED}: 5, 7"],
)
def test_a_sessions_line_is_read_in_any_case_and_composition(typed: str) -> None:
    (phase,) = read_outline(f"## Förankring\n- Förankra arbetet\n  Stegets text.\n  {typed}\n")
    (step,) = phase.steps
    assert step.events == [5, 7]
    assert step.text == "Stegets text."
    assert outline_text([phase]).endswith("  Tillfällen: 5, 7\n")


def test_an_examples_line_is_read_in_any_case() -> None:
    (phase,) = read_outline("## Fas\n- Steg\n  exempel: ystad, sormland\n")
    assert phase.steps[0].examples == ["ystad", "sormland"]
    assert phase.steps[0].text == ""


def test_a_mistyped_number_is_still_an_error() -> None:
    with pytest.raises(InvalidProcess):
        read_outline("## Fas\n- Steg\n  tillfällen: fem\n")
