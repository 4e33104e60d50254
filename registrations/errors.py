"""What can go wrong when booking or cancelling, in words an attendee understands.

Messages are Swedish msgids; pages translate them with gettext, the API returns them as is
alongside a stable code.
"""

from __future__ import annotations

from datetime import datetime

from foundation.errors import DomainError


class RegistrationError(DomainError):
    code = "registration_error"


class InvalidAttendee(RegistrationError):
    """Field-level problems: `errors` maps a form field to its message."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Formuläret innehåller fel.")
        self.errors = errors


class BookingClosed(RegistrationError):
    """The event exists but cannot be booked now; the message says why.

    `msgid` is the untranslated text, with %(opens)s standing for `opens` when set, so
    a page can say it in the visitor's language; `message` is the Swedish sentence.
    """

    code = "not_open"
    status = 409

    def __init__(
        self, msgid: str, *, opens: str | None = None, opens_at: datetime | None = None
    ) -> None:
        super().__init__(msgid % {"opens": opens} if opens is not None else msgid)
        self.msgid = msgid
        self.opens_at = opens_at


class RegistrationNotFound(RegistrationError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__("Anmälan finns inte, eller så har länken slutat gälla.")


MSG_NAME_REQUIRED = "Skriv ditt namn."
MSG_NAME_TOO_LONG = "Namnet får vara högst 200 tecken."
MSG_EMAIL_REQUIRED = "Skriv din e-postadress."
MSG_EMAIL_INVALID = "Skriv en giltig e-postadress, till exempel namn@kommun.se."
MSG_TEXT_TOO_LONG = "Högst 200 tecken."
MSG_CONSENT_REQUIRED = "Du behöver godkänna hur vi hanterar dina personuppgifter för att boka."
MSG_NOT_PUBLISHED = "Evenemanget är inte publicerat."
MSG_CANCELLED = "Evenemanget är inställt."
MSG_NOT_YET_OPEN = "Anmälan har inte öppnat än. Den öppnar %(opens)s."
MSG_CLOSED = "Anmälan har stängt."
MSG_STARTED = "Evenemanget har redan börjat."
