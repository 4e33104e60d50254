"""Checking what a person typed before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from foundation.i18n import LANGUAGES
from foundation.text import MSG_REQUIRED, MSG_TOO_LONG, TextRefused, clean_line, clean_name
from mail import addresses
from registrations import errors

MAX_LENGTH = 200  # characters, for the name, organisation and municipality
MAX_EMAIL_LENGTH = 320  # RFC 3696 errata 1690: 64 + 1 + 255, a bound before validation
# The shared rule's general messages, said the way this form has always said them.
_NAME_MESSAGES = {MSG_REQUIRED: errors.MSG_NAME_REQUIRED, MSG_TOO_LONG: errors.MSG_NAME_TOO_LONG}
_LINE_MESSAGES = {MSG_TOO_LONG: errors.MSG_TEXT_TOO_LONG}


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    organisation: str = ""
    municipality: str = ""
    # The language of every later mail to this person (foundation.i18n.LANGUAGES).
    language: str = "sv"

    @cached_property
    def email_normalised(self) -> str:
        """The key bookings by this address share (mail.addresses.canonical). Worked out
        once: it validates the address again, and a booking asks for it several times."""
        return addresses.canonical(self.email)


def validate_attendee(
    *,
    name: str,
    email: str,
    organisation: str = "",
    municipality: str = "",
    consent: bool,
    language: str = "sv",
    smtputf8: bool = False,
) -> Attendee:
    """Return a clean Attendee or raise InvalidAttendee with a message per field.

    `language` is the one the booking is made in, and every later mail comes in: one of
    foundation.i18n.LANGUAGES, else the field `language` is refused.

    Text fields follow foundation.text's rule (no controls, bidi overrides or encoded words;
    a name holds a letter), so nothing typed here can become a mail header or an iCalendar
    parameter. The address must be one we can deliver to (mail/addresses.py: RFC 5321/5322
    syntax, and a local part beyond ASCII only when `smtputf8`, Settings.smtp_utf8, says the
    relay takes it), so no seat is confirmed for an address its mail cannot reach.
    """
    problems: dict[str, str] = {}
    try:
        name = clean_name(name, max_length=MAX_LENGTH)
    except TextRefused as exc:
        problems["name"] = _NAME_MESSAGES.get(exc.msgid, exc.msgid)
        name = ""
    email = email.strip()
    if not email:
        problems["email"] = errors.MSG_EMAIL_REQUIRED
    else:
        try:
            # The shared rule first: an address may not hide an encoded word either.
            clean_line(email, max_length=MAX_EMAIL_LENGTH)
            email = addresses.deliverable(email, smtputf8=smtputf8)
        except addresses.Undeliverable as exc:
            problems["email"] = (
                addresses.MSG_LOCAL_PART_NOT_ASCII
                if exc.needs_smtputf8
                else errors.MSG_EMAIL_INVALID
            )
        except TextRefused:
            problems["email"] = errors.MSG_EMAIL_INVALID
    organisation = _optional_line(organisation, "organisation", problems)
    municipality = _optional_line(municipality, "municipality", problems)
    if not consent:
        problems["consent"] = errors.MSG_CONSENT_REQUIRED
    if language not in LANGUAGES:
        problems["language"] = errors.MSG_LANGUAGE
    if problems:
        raise errors.InvalidAttendee(problems)
    return Attendee(
        name=name,
        email=email,
        organisation=organisation,
        municipality=municipality,
        language=language,
    )


def _optional_line(value: str, field: str, problems: dict[str, str]) -> str:
    try:
        return clean_line(value, max_length=MAX_LENGTH)
    except TextRefused as exc:
        problems[field] = _LINE_MESSAGES.get(exc.msgid, exc.msgid)
        return ""
