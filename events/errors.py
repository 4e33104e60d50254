"""What can go wrong when organisers create or change events."""

from __future__ import annotations


class EventError(Exception):
    code = "event_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidEvent(EventError):
    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


class EventNotFound(EventError):
    code = "not_found"

    def __init__(self, event_id: int) -> None:
        super().__init__(f"Evenemang {event_id} finns inte.")


class SeriesNotFound(EventError):
    code = "not_found"

    def __init__(self, slug: str) -> None:
        super().__init__(f"Serien {slug!r} finns inte.")


class EventInPast(InvalidEvent):
    """The event would start, or a moved time would fall, before now.

    Refused unless the caller says it is meant (`allow_past`), since it is most often a typo.
    """

    code = "in_past"
