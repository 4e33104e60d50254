"""Checking what a person typed before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from registrations import errors


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    organisation: str = ""
    municipality: str = ""

    @property
    def email_normalised(self) -> str:
        return normalise_email(self.email)


def normalise_email(email: str) -> str:
    # The whole address is compared case-insensitively: mail systems in practice treat the
    # local part that way, and a duplicate seat is worse than a rare false match.
    return email.strip().lower()


def validate_attendee(
    *, name: str, email: str, organisation: str = "", municipality: str = "", consent: bool
) -> Attendee:
    """Return a clean Attendee or raise InvalidAttendee with a message per field."""
    problems: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        problems["name"] = errors.MSG_NAME_REQUIRED
    elif len(name) > 200:
        problems["name"] = errors.MSG_NAME_TOO_LONG
    email = email.strip()
    if not email:
        problems["email"] = errors.MSG_EMAIL_REQUIRED
    else:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            problems["email"] = errors.MSG_EMAIL_INVALID
    organisation = " ".join(organisation.split())
    municipality = " ".join(municipality.split())
    if len(organisation) > 200:
        problems["organisation"] = errors.MSG_TEXT_TOO_LONG
    if len(municipality) > 200:
        problems["municipality"] = errors.MSG_TEXT_TOO_LONG
    if not consent:
        problems["consent"] = errors.MSG_CONSENT_REQUIRED
    if problems:
        raise errors.InvalidAttendee(problems)
    return Attendee(name=name, email=email, organisation=organisation, municipality=municipality)
