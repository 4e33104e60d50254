"""An address we can deliver to: one rule for the forms that take an address and for sending.

An address is accepted only if the mail the service will send to it can be written and
handed to our relay. Two kinds of address go beyond ASCII (RFC 6530):

- an internationalised domain (`anna@räksmörgås.se`) can always be delivered: a relay
  without SMTPUTF8 gets the domain in A-labels (`anna@xn--rksmrgs-5wao1o.se`, RFC 5890),
  one with it gets the address as written (RFC 6531);
- a local part beyond ASCII (`åsa@example.se`) has no ASCII form at all: only a relay that
  offers SMTPUTF8 can carry it (RFC 6531 §3.2), so it is accepted only when the site says its
  relay does (the setting SMTP_UTF8) and refused otherwise, with a message saying why.

The booking happens before we talk to the relay, so the setting is the relay's promise; at
sending, the relay's own EHLO answer decides the form (`on_the_wire`), and a relay that does not
keep the promise fails the message with a reply saying so, not the booking.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from foundation.errors import N_

# For the field of a form (booking, an organiser's account): said where the address is typed.
MSG_LOCAL_PART_NOT_ASCII = N_(
    "Vi kan inte skicka e-post till en adress med å, ä, ö eller andra tecken utanför a–z före "
    "@. Skriv en annan adress."
)


class Undeliverable(ValueError):
    """The service cannot mail this address. `needs_smtputf8` is True when the only obstacle
    is a local part beyond ASCII and a relay without SMTPUTF8; the message names no address."""

    def __init__(self, *, needs_smtputf8: bool) -> None:
        super().__init__(
            "the address needs SMTPUTF8, which the relay does not offer"
            if needs_smtputf8
            else "not an e-mail address"
        )
        self.needs_smtputf8 = needs_smtputf8


def deliverable(text: str, *, smtputf8: bool) -> str:
    """`text` as an address we can deliver to, in the form we store and show: NFC, the domain
    in lower-case Unicode (U-labels), the local part as typed.

    `smtputf8` says whether the relay offers SMTPUTF8 (Settings.smtp_utf8). Syntax is RFC 5321
    and 5322 as email-validator checks it, without quoted local parts, domain literals or
    display names. Raises Undeliverable.
    """
    try:
        valid = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        raise Undeliverable(needs_smtputf8=False) from None
    if valid.ascii_email is None and not smtputf8:
        raise Undeliverable(needs_smtputf8=True)
    return str(valid.normalized)


def canonical(text: str) -> str:
    """The key an address is compared by (a booking's duplicate check, an account's sign-in,
    a forgotten password, rate limits): the address in the form `deliverable` stores (NFC,
    the domain in U-labels, so `anna@xn--rksmrgs-5wao1o.se` is `anna@räksmörgås.se`), then
    lower-cased whole. Mail systems in practice treat the local part case-insensitively, and
    a duplicate seat or account is worse than a rare false match. What is no address at all
    gets the same folding without the domain's, so it matches only itself; never raises.
    """
    try:
        valid = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return unicodedata.normalize("NFC", text.strip()).lower()
    return str(valid.normalized).lower()


def on_the_wire(address: str, *, smtputf8: bool) -> str:
    """The form of a stored `address` for a relay with or without SMTPUTF8, in the envelope and
    in the headers alike: as stored with SMTPUTF8; else ASCII, the domain in A-labels.

    Raises Undeliverable(needs_smtputf8=True) when only SMTPUTF8 can carry it, and
    Undeliverable(needs_smtputf8=False) for what is no address at all (a row from before the
    rule, say).
    """
    if address.isascii() or smtputf8:
        return address
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        raise Undeliverable(needs_smtputf8=False) from None
    if valid.ascii_email is None:
        raise Undeliverable(needs_smtputf8=True)
    return str(valid.ascii_email)
