"""A form's text fields as the handlers read them: a missing field is "", and every value is
cut to a longest length before any rule reads it, so a megabyte pasted into a field costs
nothing; the domain's own rules (shorter) then say what is too long."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import FormData

# Longer than any text rule in the site (an event's description, 20,000, is the longest).
LONGEST = 25_000


def field(form: FormData, name: str, longest: int) -> str:
    """The text of field `name` ("" when absent), at most `longest` characters."""
    return str(form.get(name, ""))[:longest]


def fields(form: FormData, names: Iterable[str], longest: int = LONGEST) -> dict[str, str]:
    """{name: its text} for each of `names`, each at most `longest` characters."""
    return {name: field(form, name, longest) for name in names}
