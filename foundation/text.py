"""One rule for text a person types: names, organisations, titles, subjects, message bodies.

Whatever a person types ends up in pages, mail headers, iCalendar properties, CSV exports and
logs. Characters that are not text there are refused at the door, for forms, the JSON API,
the command line and imports alike, so nothing downstream has to guess:

* C0 and C1 control characters (NUL, ESC, BEL, DEL, CR…), except line breaks and tabs in
  multi-line text: they end header lines (RFC 5322 §2.2), end iCalendar content lines
  (RFC 5545 §3.1) and make a NUL that PostgreSQL refuses to store;
* bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make
  a name read differently from what it is (Unicode TR #36 §2.1, "Trojan Source",
  CVE-2021-42574);
* lone surrogates and noncharacters, which no encoding can carry;
* RFC 2047 encoded words (`=?charset?q?…?=`) in single-line text: a mail library may decode
  one while folding a header and write what it hides, CRLF included, as real header lines.

Other invisible format characters (Unicode category Cf: a zero-width space, a byte order
mark, a word joiner, a soft hyphen) are dropped from single-line text rather than refused:
they arrive unseen with pasted text, and would make two titles or names that look the same
differ. The zero-width joiner and non-joiner stay where they join visible characters (emoji
sequences, Persian and Indic spelling).

Single-line text has its runs of white space folded to one space. A person's name must also
hold a letter, so a name of zero-width characters or punctuation alone is refused.

Where text is written out (mail headers, iCalendar parameters) it is not trusted to have
passed the door: rows stored before a rule existed, or written by other means, go through
`neutral_line`, which makes the same characters harmless instead of refusing them.
"""

from __future__ import annotations

import re
import unicodedata

from foundation.errors import N_, DomainError

# Swedish msgids; pages translate them where they show them, the API returns them as is.
MSG_CONTROL = N_("Texten innehåller osynliga styrtecken. Skriv den utan dem.")
MSG_ENCODED_WORD = N_("Texten ser ut som kodad e-posttext (=?…?=). Skriv den som vanlig text.")
MSG_NO_LETTER = N_("Skriv ett namn med minst en bokstav.")
MSG_ADDRESS_IN_NAME = N_("Skriv bara namnet, utan webb- eller e-postadresser.")
MSG_REQUIRED = N_("Fältet får inte vara tomt.")
MSG_TOO_LONG = N_("Texten är för lång.")

# Embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Python's email parser decodes an encoded word even with white space inside it (it only notes
# a defect), so the pattern admits white space where RFC 2047 does not.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?[^?]*\?=", re.IGNORECASE)
# What mail clients turn into a link: a scheme, www., an e-mail address, or a domain with a
# path. A name is greeted in a genuine mail to any address, so it must not carry one.
_ADDRESS = re.compile(r"://|\bwww\.|@|\w\.[a-z]{2,}/", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: they shape what they stand between


class TextRefused(DomainError):
    """The text cannot be accepted; `msgid` says why (one of the MSG_* above)."""

    code = "invalid_text"
    status = 422


def _is_refused(char: str, *, multiline: bool) -> bool:
    if char in BIDI_CONTROLS:
        return True
    if multiline and char in "\n\t":
        return False
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):
        return True
    code = ord(char)
    # Noncharacters: U+FDD0–U+FDEF and the last two code points of every plane.
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character the rule refuses in `value`, or None when there is none."""
    for char in value:
        if _is_refused(char, multiline=multiline):
            return char
    return None


def clean_line(value: str, *, max_length: int, required: bool = False) -> str:
    """Single-line text: white space folded, controls and encoded words refused.

    Returns the cleaned text (possibly empty unless `required`). Raises TextRefused.
    `max_length` counts characters after folding.
    """
    # Tabs and line breaks (a pasted name often ends in one) are white space to fold in a
    # single line; every other control is refused before folding, which would hide some.
    if refused_character(_LINE_BREAKS.sub("\n", value), multiline=True) is not None:
        raise TextRefused(MSG_CONTROL)
    folded = " ".join(_without_format_characters(value).split())
    if _ENCODED_WORD.search(folded):
        raise TextRefused(MSG_ENCODED_WORD)
    if required and not folded:
        raise TextRefused(MSG_REQUIRED)
    if len(folded) > max_length:
        raise TextRefused(MSG_TOO_LONG)
    return folded


def _without_format_characters(value: str) -> str:
    """`value` without invisible format characters (Cf; bidi controls are refused before
    this), joiners kept only between two visible characters."""
    kept = [c for c in value if c in JOINERS or unicodedata.category(c) != "Cf"]
    return "".join(
        c
        for n, c in enumerate(kept)
        if c not in JOINERS
        or (0 < n < len(kept) - 1 and not _invisible(kept[n - 1]) and not _invisible(kept[n + 1]))
    )


def _invisible(char: str) -> bool:
    return char.isspace() or char in JOINERS


def clean_name(value: str, *, max_length: int = 200) -> str:
    """A person's name: single-line text that holds at least one letter and no web or
    e-mail address (a phishing link in a greeting from a trusted sender). Raises TextRefused."""
    name = clean_line(value, max_length=max_length)
    if not name:  # nothing typed, or only invisible characters, which hold no letter either
        raise TextRefused(MSG_NO_LETTER if value.strip() else MSG_REQUIRED)
    if not any(unicodedata.category(char).startswith("L") for char in name):
        raise TextRefused(MSG_NO_LETTER)
    if _ADDRESS.search(name):
        raise TextRefused(MSG_ADDRESS_IN_NAME)
    return name


def clean_text(value: str, *, max_length: int, required: bool = False) -> str:
    """Multi-line text (descriptions, message bodies): line breaks kept as LF, tabs kept,
    other controls refused; trailing white space on the whole removed. Raises TextRefused."""
    text = _LINE_BREAKS.sub("\n", value)
    # Checked before stripping: str.strip() counts VT, FF and U+001C–U+001F as white space,
    # and a control is refused wherever it stands, not only between words.
    if refused_character(text, multiline=True) is not None:
        raise TextRefused(MSG_CONTROL)
    text = text.strip()
    if required and not text:
        raise TextRefused(MSG_REQUIRED)
    if len(text) > max_length:
        raise TextRefused(MSG_TOO_LONG)
    return text


def neutral_line(value: str) -> str:
    """`value` made safe for one header line or parameter, whatever it holds; never raises.

    Every character the rule refuses becomes a space, white space is folded, and each `=?`
    becomes `= ?`, so no mail library can read an encoded word into it (RFC 2047 §5 lets
    them appear in display names and unstructured headers such as Subject).
    """
    spaced = "".join(" " if _is_refused(char, multiline=False) else char for char in value)
    folded = " ".join(spaced.split())
    while "=?" in folded:
        folded = folded.replace("=?", "= ?")
    return folded
