"""A form field people never meet and form-filling scripts do: no CAPTCHA, nothing to solve.

The field sits in a container hidden from sight (`visually-hidden`) and from assistive
technology (`aria-hidden="true"`), and its input is out of the tab order (`tabindex="-1"`)
and autofill (`autocomplete="off"`), so no person meets it, whether they look, listen or use
the keyboard (unlike a CAPTCHA, it asks no puzzle of anyone). A filled field is refused like
an invalid form, with nothing stored: a person whose browser extension filled it after all
sees the form again, their input kept and the field emptied, and sends it once more; a
script learns only that a form was refused, which it cannot tell from any other refusal.
"""

from __future__ import annotations

from starlette.datastructures import FormData

from foundation.errors import N_, DomainError

FIELD = "comment"
MSG_REFUSED = N_("Formuläret kunde inte skickas. Kontrollera uppgifterna och skicka det igen.")


class Filled(DomainError):
    """The hidden field came back with something in it."""

    code = "refused"
    status = 422

    def __init__(self) -> None:
        super().__init__(MSG_REFUSED)


def check(form: FormData) -> None:
    """Raise Filled when the hidden field holds anything but whitespace."""
    if str(form.get(FIELD, "")).strip():
        raise Filled()
