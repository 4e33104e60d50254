"""What can go wrong when organisers create or change events."""

from __future__ import annotations

from foundation.errors import DomainError


class EventError(DomainError):
    code = "event_error"


class InvalidEvent(EventError):
    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


class EventNotFound(EventError):
    """No such event; with its id where the asker gave one (the command line)."""

    code = "not_found"
    status = 404

    def __init__(self, event_id: int | None = None) -> None:
        super().__init__(
            "Evenemanget finns inte." if event_id is None else f"Evenemang {event_id} finns inte."
        )


class SeriesNotFound(EventError):
    code = "not_found"
    status = 404

    def __init__(self, slug: str) -> None:
        super().__init__(f"Serien {slug!r} finns inte.")


class EventInPast(InvalidEvent):
    """The event would start, or a moved time would fall, before now.

    Refused unless the caller says it is meant (`allow_past`), since it is most often a typo.
    """

    code = "in_past"
