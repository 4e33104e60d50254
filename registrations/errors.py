"""What can go wrong when booking or cancelling, in words an attendee understands.

Messages are Swedish msgids marked with `N_`; pages translate them with gettext, the API
returns them as they are alongside a stable code (foundation.errors).
"""

from __future__ import annotations

from collections.abc import Mapping

from foundation.errors import N_, DomainError


class RegistrationError(DomainError):
    code = "registration_error"


class InvalidAttendee(RegistrationError):
    """Field-level problems: `fields` maps a form field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Formuläret innehåller fel."), fields=fields)


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
# The language mails come in: the API's `language` member, the organiser's choice.
MSG_LANGUAGE = N_("Välj språk: sv (svenska) eller en (engelska).")


# An organiser's work on an event's list (registrations/booking.py, waitlist.py, attendance.py).
MSG_NOT_ON_LIST = N_("Personen finns inte på evenemangets lista.")
MSG_ALREADY_ON_LIST = N_("Den e-postadressen har redan en plats eller en plats i kön.")
MSG_EVENT_OVER = N_("Evenemanget är redan slut.")
# The consent an organiser gives on someone's behalf when adding them by hand.
MSG_CONSENT_BY_ORGANISER = N_("Kryssa i rutan när personen har godkänt hur uppgifterna hanteras.")


class SeatsChanged(RegistrationError):
    """Giving someone a seat was confirmed for seats that have changed since the organiser
    was shown them (another organiser gave one, a raise, a cancellation): refused, so no seat
    is ever added that the confirmation page did not announce."""

    code = "seats_changed"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Antalet platser har ändrats sedan du tittade, så ingen plats gavs. Titta på "
                "listan igen och ge platsen på nytt om den fortfarande ska ges."
            )
        )


class NotWaitlisted(RegistrationError):
    code = "not_waitlisted"
    status = 409

    def __init__(self) -> None:
        super().__init__(N_("Personen står inte i kön."))


class CheckInClosed(RegistrationError):
    """A check-in tap outside the event's check-in days (registrations.attendance); the
    message says when it opens, or that it has closed."""

    code = "check_in_closed"
    status = 409


MSG_CHECK_IN_NOT_YET = N_("Incheckningen öppnar %(opens)s, samma dag som evenemanget.")
MSG_CHECK_IN_OVER = N_("Incheckningen stängde %(closed)s.")


class NotConfirmed(RegistrationError):
    """Attendance is marked only for someone who holds a seat."""

    code = "not_confirmed"
    status = 409

    def __init__(self) -> None:
        super().__init__(N_("Bara den som har en bekräftad plats kan checkas in."))


class InvalidMark(RegistrationError):
    code = "invalid_mark"
    status = 400

    def __init__(self) -> None:
        super().__init__(N_("Välj närvarande, uteblev eller ångra."))


class NothingToChange(RegistrationError):
    """A change to an event in which every value is as it already is (a note alone is no
    change): refused, so no updated invite, notice or audit entry says something moved."""

    code = "nothing_to_change"
    status = 422

    def __init__(self) -> None:
        super().__init__(N_("Inget att ändra: allt är redan som du skrev."))
