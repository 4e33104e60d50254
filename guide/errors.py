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


class InvalidProposal(DomainError):
    """A proposal ('Dela med dig') or an organiser's decision on one with field-level
    problems: `fields` maps a field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Förslaget innehåller fel."), fields=fields)


class ProposalNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Förslaget finns inte."))


class ProposalDecided(DomainError):
    """The proposal was already approved or rejected: a decision is made once."""

    code = "conflict"
    status = 409

    def __init__(self) -> None:
        super().__init__(N_("Förslaget är redan godkänt eller avböjt."))


class InvalidTip(DomainError):
    """A tip (metod) with field-level problems: `fields` maps a field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Uppgifterna om tipset innehåller fel."), fields=fields)


class InvalidProcess(DomainError):
    """A process with field-level problems: `fields` maps a field to its msgid; a phase's or
    a step's field is named by its path, "phases.0.title", "phases.1.steps.2.examples"."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Uppgifterna om processen innehåller fel."), fields=fields)


class InvalidChallenge(DomainError):
    """A challenge with field-level problems: `fields` maps a field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Uppgifterna om utmaningen innehåller fel."), fields=fields)


class TipNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Tipset finns inte."))


class ProcessNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Processen finns inte."))


class ChallengeNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Utmaningen finns inte."))
