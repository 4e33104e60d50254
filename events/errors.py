"""What can go wrong when organisers create or change events, and when an event is asked for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from foundation.errors import N_, DomainError


class EventError(DomainError):
    code = "event_error"


class InvalidEvent(EventError):
    """Field-level problems: `fields` maps a field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Uppgifterna om evenemanget innehåller fel."), fields=fields)


class EventNotFound(EventError):
    """No such event (or none that the asker may see); with its id where the asker gave one
    (the command line). Pages and the API never repeat a path's text back."""

    code = "not_found"
    status = 404

    def __init__(self, event_id: int | None = None) -> None:
        if event_id is None:
            super().__init__(N_("Evenemanget finns inte."))
        else:
            super().__init__(N_("Evenemang %(id)s finns inte."), id=event_id)


class SeriesNotFound(EventError):
    """No such series; with the slug where the asker typed it (an organiser, the command
    line). Pages never pass one: their slug comes from a link anyone can write."""

    code = "not_found"
    status = 404

    def __init__(self, slug: str | None = None) -> None:
        if slug is None:
            super().__init__(N_("Serien finns inte."))
        else:
            super().__init__(N_("Serien %(slug)s finns inte."), slug=repr(slug))


class EventInPast(InvalidEvent):
    """The event would start, or a moved time would fall, before now.

    Refused unless the caller says it is meant (`allow_past`), since it is most often a typo.
    """

    code = "in_past"


class EventStateRefused(EventError):
    """The event's state does not allow the step: unpublishing one people have booked,
    deleting one that is not a draft, publishing one that is cancelled."""

    code = "conflict"
    status = 409


class HasRegistrations(EventStateRefused):
    """A published event that people have booked stays public: cancelling it tells them."""

    def __init__(self, count: int) -> None:
        super().__init__(
            N_(
                "%(count)d personer har anmält sig, så evenemanget kan inte bli ett utkast igen. "
                "Ställ in det i stället, så får de anmälda veta."
            ),
            count=count,
        )


class NotPublished(EventStateRefused):
    def __init__(self) -> None:
        super().__init__(N_("Bara ett publicerat evenemang kan göras till utkast."))


class NotADraft(EventStateRefused):
    """Only a draft can be deleted: a published event is cancelled instead, so nobody who
    saw or booked it is left without word."""

    def __init__(self) -> None:
        super().__init__(
            N_("Bara ett utkast kan raderas. Ett publicerat evenemang ställs in i stället.")
        )


class DraftNotCancelled(EventStateRefused):
    """A draft was never public, so there is nobody to tell: it is deleted, not cancelled
    (a cancelled event shows on public pages and feeds as cancelled)."""

    def __init__(self) -> None:
        super().__init__(N_("Ett utkast ställs inte in. Radera det i stället."))


class AlreadyCancelled(EventStateRefused):
    """The event is cancelled already: everyone was told once, and a second cancel (a form
    confirmed twice, a client's retry) tells nobody again and logs nothing."""

    code = "already_cancelled"

    def __init__(self) -> None:
        super().__init__(N_("Evenemanget är redan inställt. Alla som var anmälda har fått veta."))


class DateShown(NamedTuple):
    """A date as a refusal names it, readable after its transaction has rolled back."""

    id: int
    starts_at: datetime
    ends_at: datetime
    title: str


class WindowClosesBooking(EventStateRefused):
    """A series' new registration window would close booking at once on `dates`, which
    are open for booking now: nothing is written until the organiser has seen them and
    confirms with their ids (events.series_upkeep.set_window's `closing_seen`)."""

    code = "closes_booking"
    status = 409

    def __init__(self, dates: Sequence[DateShown]) -> None:
        super().__init__(
            N_(
                "Anmälningstiden stänger bokningen direkt för datum som går att boka nu. "
                "Se efter vilka och bekräfta."
            )
        )
        self.dates = list(dates)
