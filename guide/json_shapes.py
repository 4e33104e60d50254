"""Reading the guide's JSON shapes (the export's, the import's, an API body's) member by
member, with the type each must have and no coercion: `"5"` is no number, `5` no text.

A member of the wrong type or a member the shape does not have gets a Swedish message
under its name (a nested one by its path, "phases.0.steps.1.title"); `done` raises them
all together with the kind's error. Whether a value is good beyond its type is the save
functions' rule (guide.editing), so both kinds of fault come from the same place: the type
first, then the content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from foundation.errors import N_, DomainError
from foundation.text import MSG_REQUIRED
from foundation.typed_body import MSG_INTEGER, MSG_STRING, MSG_UNKNOWN

MSG_TEXTS = N_("Måste vara en lista med textsträngar.")
MSG_OBJECTS = N_("Måste vara en lista med objekt.")
MSG_DAY = N_("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-12-03.")
_REQUIRED = object()


class Reader:
    """One JSON object's members; nested readers share the errors of the outermost."""

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        path: str = "",
        errors: dict[str, str] | None = None,
        readers: list[Reader] | None = None,
    ) -> None:
        self._data = data
        self._path = path
        self._read: set[str] = set()
        self.errors: dict[str, str] = {} if errors is None else errors
        self._readers: list[Reader] = [] if readers is None else readers
        self._readers.append(self)

    def _get(self, name: str) -> Any:
        self._read.add(name)
        return self._data.get(name)

    def _fault(self, name: str, msgid: str) -> None:
        self.errors.setdefault(self._path + name, msgid)

    def text(self, name: str, default: Any = _REQUIRED) -> str:
        """A text member; `default` when absent or null (without one it is required)."""
        value = self._get(name)
        if value is None:
            if default is _REQUIRED:
                self._fault(name, MSG_REQUIRED)
                return ""
            return str(default)
        if not isinstance(value, str):
            self._fault(name, MSG_STRING)
            return ""
        return value

    def optional_text(self, name: str) -> str | None:
        """A text member, or None when absent or null."""
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self._fault(name, MSG_STRING)
            return None
        return value

    def integer(self, name: str, default: int | None) -> int | None:
        """A JSON integer (not a boolean, not a float), or `default` when absent or null."""
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._fault(name, MSG_INTEGER)
            return default
        return value

    def texts(self, name: str) -> list[str]:
        """A list of text; [] when absent or null."""
        value = self._get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._fault(name, MSG_TEXTS)
            return []
        return list(value)

    def day(self, name: str) -> date | None:
        """A date as RFC 3339 full-date text ("2026-12-03"), or None when absent or null."""
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) != 10:
            self._fault(name, MSG_DAY)
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self._fault(name, MSG_DAY)
            return None

    def objects(self, name: str) -> list[Reader]:
        """A list of objects, each read by its own Reader ("phases.0.")."""
        value = self._get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self._fault(name, MSG_OBJECTS)
            return []
        return [
            Reader(item, path=f"{self._path}{name}.{n}.", errors=self.errors, readers=self._readers)
            for n, item in enumerate(value)
        ]

    def done(self, error: Callable[[Mapping[str, str]], DomainError]) -> None:
        """Raises `error(fields)` when any member was of the wrong type, a required one was
        missing, or the object (or a nested one) has a member no reader asked for."""
        for reader in self._readers:
            for name in reader._data:
                if name not in reader._read:
                    known = isinstance(name, str) and name.isidentifier() and len(name) <= 64
                    self.errors.setdefault(reader._path + name if known else "body", MSG_UNKNOWN)
        if self.errors:
            raise error(self.errors)
