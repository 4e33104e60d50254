"""What can go wrong when reading or adding to the development guide."""

from __future__ import annotations

from collections.abc import Mapping

from foundation.errors import N_, DomainError


class InvalidExample(DomainError):
    """Field-level problems: `fields` maps a field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Uppgifterna om exemplet innehåller fel."), fields=fields)


class ExampleNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Exemplet finns inte."))
