"""What can go wrong when reading the development guide."""

from __future__ import annotations

from foundation.errors import N_, DomainError


class ExampleNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Exemplet finns inte."))
