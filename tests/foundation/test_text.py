"""The one rule for human text (foundation.text), over every kind of input it must tell apart.

Refused: C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, lone surrogates,
noncharacters, RFC 2047 encoded words in single-line text, names without a letter.
Passed unchanged: names in Swedish, Sami, Arabic, CJK, with emoji, with combining marks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from foundation.text import (
    BIDI_CONTROLS,
    MSG_ADDRESS_IN_NAME,
    MSG_CONTROL,
    MSG_ENCODED_WORD,
    MSG_NO_LETTER,
    MSG_REQUIRED,
    MSG_TOO_LONG,
    TextRefused,
    clean_line,
    clean_name,
    clean_text,
    neutral_line,
    refused_character,
)

# Every C0 control but the white space a single line folds (tab, LF, CR), DEL, every C1
# control but NEL (a line break), and the bidi controls.
C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]
C1 = [chr(c) for c in range(0x80, 0xA0) if c != 0x85]
CONTROLS = [*C0, "\x7f", *C1, *sorted(BIDI_CONTROLS)]
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
NONCHARACTERS = st.one_of(
    st.integers(0xFDD0, 0xFDEF).map(chr),
    st.integers(0, 16).map(lambda plane: chr(plane * 0x10000 + 0xFFFE)),
    st.integers(0, 16).map(lambda plane: chr(plane * 0x10000 + 0xFFFF)),
)
REFUSED = st.one_of(st.sampled_from(CONTROLS), SURROGATES, NONCHARACTERS)
# Text of letters, digits, marks, punctuation, symbols and spaces: what people type.
PLAIN = st.text(
    st.characters(
        categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nd", "Pd", "Po", "Ps", "Pe", "So"],
        exclude_characters="=?",
    ),
    max_size=40,
)
LETTER = st.characters(categories=["Lu", "Ll", "Lo"])

REAL_NAMES = [
    "Åsa Öberg-Ängström",
    "Máret Ánde Sárá",  # Northern Sami
    "Sáve Ŋuoljá Čábbá",
    "Áile Đuolbmá",
    "محمد عبد الله",  # Arabic, right to left without any override
    "王小明",
    "佐藤 花子",
    "김민준",
    "Anna 🌻 Berg",
    "Zoë O'Brien",
    "Jean-Luc d'Artagnan",
    "Åsa",  # decomposed Å (A + U+030A): kept as typed, not normalised
    "Ravi Shankar (Kommunförbundet)",
    "👩🏽‍💻 Lina",  # zero-width joiner inside an emoji sequence
]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_pass_unchanged(name: str) -> None:
    assert clean_name(name) == name
    assert clean_line(name, max_length=200) == name
    assert neutral_line(name) == name


@given(st.sampled_from(REAL_NAMES), st.sampled_from(REAL_NAMES))
def test_names_with_letters_in_any_script_pass_unchanged(first: str, last: str) -> None:
    name = f"{first} {last}"
    assert clean_name(name) == name


@given(prefix=PLAIN, control=REFUSED, suffix=PLAIN)
@example(prefix="Anna", control="\x1b", suffix="[31mRöd")  # ESC: a terminal colour code
@example(prefix="Anna", control="\x07", suffix="")  # BEL
@example(prefix="Anna", control="\x7f", suffix="")  # DEL
@example(prefix="Anna", control="\x00", suffix="Berg")  # NUL
@example(prefix="Anna ", control="\u202e", suffix="greB")  # RIGHT-TO-LEFT OVERRIDE
@example(prefix="", control="\u2066", suffix="Anna")  # LEFT-TO-RIGHT ISOLATE
@example(prefix="Anna", control="\ud800", suffix="")  # a lone surrogate
@example(prefix="Anna", control="\ufffe", suffix="")  # a noncharacter
@example(prefix="", control="\x0b", suffix="")  # VT, which str.strip() would drop unseen
@example(prefix="Hej", control="\x1f", suffix="")  # UNIT SEPARATOR, likewise
def test_a_refused_character_anywhere_refuses_every_kind_of_text(
    prefix: str, control: str, suffix: str
) -> None:
    value = f"{prefix}{control}{suffix}"
    cleaners: list[Callable[[str], str]] = [
        clean_name,
        partial(clean_line, max_length=1000),
        partial(clean_text, max_length=1000),
    ]
    for clean in cleaners:
        with pytest.raises(TextRefused) as refused:
            clean(value)
        assert refused.value.message == MSG_CONTROL
    assert refused_character(value) is not None


@given(st.lists(st.sampled_from(["\t", "\n", "\r\n", "\r", "\u2028", "\x85", " ", "\xa0"])))
def test_line_breaks_and_tabs_fold_in_one_line_and_stay_in_many(breaks: list[str]) -> None:
    value = "Anna" + "".join(breaks) + "Berg"
    assert clean_name(value) == ("Anna Berg" if breaks else "AnnaBerg")
    body = clean_text(value, max_length=1000)
    assert not {"\r", "\u2028", "\x85"} & set(body)
    assert (body[:4], body[-4:]) == ("Anna", "Berg")


@given(
    charset=st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "us-ascii", "utf-8*sv"]),
    encoding=st.sampled_from("bBqQ"),
    text=st.text(st.characters(codec="ascii", exclude_characters="?"), max_size=30),
    before=PLAIN,
)
@example(
    charset="utf-8",
    encoding="q",
    text="Support=0D=0AReply-To=3A_attacker=40evil.example=0D=0AX-Injected=3A_yes",
    before="",
)
# White space inside the word: not RFC 2047, but Python's parser still decodes it.
@example(charset="utf-8", encoding="q", text="a b=0D=0ABcc:=20x@evil.example", before="Anna ")
@example(charset="utf-8", encoding="b", text="U3VwcG9ydA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==", before="")
def test_encoded_words_are_refused_in_single_line_text(
    charset: str, encoding: str, text: str, before: str
) -> None:
    value = f"{before}=?{charset}?{encoding}?{text}?="
    if refused_character(value.replace("\n", " ")) is not None:
        return  # refused for its controls first; the test above covers that
    with pytest.raises(TextRefused) as refused:
        clean_line(value, max_length=1000)
    assert refused.value.message == MSG_ENCODED_WORD
    with pytest.raises(TextRefused):
        clean_name("Anna " + value)


@given(st.text(st.sampled_from("\u200b\u200c\u200d\u2060\ufeff \t"), min_size=1))
def test_a_name_of_zero_width_characters_only_is_refused(value: str) -> None:
    with pytest.raises(TextRefused) as refused:
        clean_name(value)
    assert refused.value.message in (MSG_NO_LETTER, MSG_REQUIRED)


@given(st.text(st.characters(categories=["P", "S", "N", "Zs"]), min_size=1, max_size=50))
@example("...")
@example("-- !! --")
@example("😀😀")
@example("12345")
def test_a_name_without_a_letter_is_refused(value: str) -> None:
    with pytest.raises(TextRefused) as refused:
        clean_name(value)
    assert refused.value.message in (MSG_NO_LETTER, MSG_REQUIRED, MSG_ENCODED_WORD)


@given(PLAIN, LETTER)
def test_any_plain_text_with_a_letter_is_a_name_folded_but_otherwise_unchanged(
    text: str, letter: str
) -> None:
    value = text + letter
    assume("@" not in value and "/" not in value and "www." not in value.lower())
    assert clean_name(value) == " ".join(value.split())


@pytest.mark.parametrize(
    "name",
    [
        # Found by an attacker: greeted as typed in a genuine mail to any address.
        "Ditt konto spärras – logga in på https://evil.example/lunchkafe",
        "Anna, se www.evil.example",
        "Anna (svara till support@evil.example)",
        "Logga in: evil.example/login",
        "Anna hxxps://evil.example".replace("hxxps", "ftp"),
    ],
)
def test_a_name_with_a_web_or_mail_address_is_refused(name: str) -> None:
    with pytest.raises(TextRefused) as refused:
        clean_name(name)
    assert refused.value.message == MSG_ADDRESS_IN_NAME
    assert clean_line(name, max_length=200) == name  # other text may hold an address


def test_length_counts_characters_after_folding() -> None:
    assert clean_line("a  " * 100, max_length=199) == " ".join(["a"] * 100)
    with pytest.raises(TextRefused) as refused:
        clean_name("å" * 201)
    assert refused.value.message == MSG_TOO_LONG
    assert clean_name("å" * 200) == "å" * 200


def test_empty_text_is_refused_only_where_required() -> None:
    assert clean_line("  \t ", max_length=10) == ""
    with pytest.raises(TextRefused) as refused:
        clean_line(" \n ", max_length=10, required=True)
    assert refused.value.message == MSG_REQUIRED
    assert clean_text("\n\n", max_length=10) == ""


@given(st.text(max_size=80))
@example("=?utf-8?q?Support=0D=0AReply-To=3A_attacker=40evil.example=0D=0AX-Injected=3A_yes?=")
@example("Anna\x00Berg\r\nBcc: x@evil.example")
@example("==??==??")
def test_neutral_line_makes_anything_one_harmless_line(value: str) -> None:
    """What mail headers and iCalendar parameters write, whether or not the door saw it."""
    line = neutral_line(value)
    assert refused_character(line) is None
    assert "=?" not in line
    assert line == " ".join(line.split())
    assert neutral_line(line) == line
    # Letters survive: a name made harmless still reads as the name.
    kept = [c for c in value if unicodedata.category(c).startswith("L")]
    assert [c for c in line if unicodedata.category(c).startswith("L")] == kept
