"""One rule for a slug made from a title (foundation.slugs.slug_from): Swedish letters lose
their marks, anything else between words becomes one hyphen, and the result is a slug."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from foundation.slugs import MAX_SLUG, is_slug, slug_from


def test_swedish_titles() -> None:
    assert slug_from("Lunchkaféer på Åland öst") == "lunchkafeer-pa-aland-ost"
    assert slug_from("  Hållbar tillväxt 2027!  ") == "hallbar-tillvaxt-2027"
    assert slug_from("Ärende – Ö & Ä") == "arende-o-a"
    assert slug_from("???") == ""


@given(st.text(max_size=300))
def test_whatever_the_title_the_result_is_a_slug_or_empty(title: str) -> None:
    made = slug_from(title)
    assert made == "" or is_slug(made)
    assert len(made) <= MAX_SLUG
    assert not made.startswith("-")
    assert not made.endswith("-")
    assert "--" not in made
