"""What can go wrong when booking or cancelling, in words an attendee understands.

Messages are Swedish msgids marked with `N_`; pages translate them with gettext, the API
returns them as they are alongside a stable code (foundation.errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from foundation.errors import N_, DomainError


class RegistrationError(DomainError):
    code = "registration_error"


class InvalidAttendee(RegistrationError):
    """Field-level problems: `fields` maps a form field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Formuläret innehåller fel."), fields=fields)

    @property
    def errors(self) -> dict[str, str]:
        return self.fields


class BookingClosed(RegistrationError):
    """The event exists but cannot be booked now; the msgid says why.

    `opens_at`, when registration has yet to open, fills the msgid's %(opens)s: in Swedish
    in the instant's own zone for `message`, in the reader's language on a page.
    """

    code = "not_open"
    status = 409

    def __init__(self, msgid: str, *, opens_at: datetime | None = None) -> None:
        if opens_at is None:
            super().__init__(msgid)
        else:
            super().__init__(msgid, opens=opens_at)
        self.opens_at = opens_at


class RegistrationNotFound(RegistrationError):
    code = "not_found"
    status = 404

    def __init__(
        self, msgid: str = N_("Anmälan finns inte, eller så har länken slutat gälla.")
    ) -> None:
        super().__init__(msgid)


class FeedNotFound(RegistrationNotFound):
    """No personal feed has this token: never had, or the address was replaced."""

    def __init__(self) -> None:
        super().__init__(N_("Kalendern finns inte, eller så har länken bytts ut."))


MSG_NAME_REQUIRED = N_("Skriv ditt namn.")
MSG_NAME_TOO_LONG = N_("Namnet får vara högst 200 tecken.")
MSG_EMAIL_REQUIRED = N_("Skriv din e-postadress.")
MSG_EMAIL_INVALID = N_("Skriv en giltig e-postadress, till exempel namn@kommun.se.")
MSG_TEXT_TOO_LONG = N_("Högst 200 tecken.")
MSG_CONSENT_REQUIRED = N_("Du behöver godkänna hur vi hanterar dina personuppgifter för att boka.")
MSG_NOT_PUBLISHED = N_("Evenemanget är inte publicerat.")
MSG_CANCELLED = N_("Evenemanget är inställt.")
MSG_NOT_YET_OPEN = N_("Anmälan har inte öppnat än. Den öppnar %(opens)s.")
MSG_CLOSED = N_("Anmälan har stängt.")
MSG_STARTED = N_("Evenemanget har redan börjat.")
