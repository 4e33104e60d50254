"""Greeting a person once, by first name: "Hej Maria!", not "Hej Maria Malm!" then "Hej!".

An organiser's message is framed by the mail's own greeting; organisers tend to open their
text with one too ("Hej allihop!"). A first line that is nothing but a greeting is left out
of the frame, so the person is greeted once, by name.
"""

from __future__ import annotations

import re

# A greeting and at most two more words ("Hej allihop!", "Hello everyone,", "Kära deltagare"),
# alone on the first line: anything longer is a sentence, and stays.
_GREETING_LINE = re.compile(
    r"(hej|hejsan|hallå|hello|hi|dear|kära|god (morgon|dag|eftermiddag))"
    r"((\s+[^\s.,!?:;]+){0,2})\s*[!,.:]?\s*",
    re.IGNORECASE,
)


def first_name(name: str) -> str:
    """The first word of a name as typed ("Maria Malm" → "Maria", "Anna-Karin Ek" →
    "Anna-Karin"); the whole name when it has no space."""
    words = name.split()
    return words[0] if words else name


def without_greeting(body: str) -> str:
    """`body` without a first line that only greets, when more follows it."""
    first, _, rest = body.partition("\n")
    if _GREETING_LINE.fullmatch(first.strip()) and rest.strip():
        return rest.lstrip("\n")
    return body
