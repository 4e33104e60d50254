"""What can go wrong with organiser accounts and signing in, said to the organiser."""

from __future__ import annotations

from collections.abc import Mapping

from events.errors import EventStateRefused
from foundation.errors import N_, DomainError
from registrations.organising import ChangePreview


class InvalidAccount(DomainError):
    """Field-level problems: `fields` maps a field to its msgid."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Uppgifterna om kontot innehåller fel."), fields=fields)


class AccountNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Kontot finns inte."))


class SignInRefused(DomainError):
    """Wrong address or password, a disabled account or one without a password yet: one
    answer for all, so the answer tells nobody which addresses have accounts."""

    code = "sign_in_refused"
    status = 401

    def __init__(self) -> None:
        super().__init__(N_("Fel e-postadress eller lösenord."))


class TooManySignIns(DomainError):
    """Over a sign-in limit; `Retry-After` says when to try again (RFC 9110 §10.2.3)."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("För många inloggningsförsök. Försök igen om %(seconds)s sekunder."),
            headers={"Retry-After": str(retry_after)},
            seconds=retry_after,
        )
        self.extensions = {"retry_after": retry_after}


class NotSignedIn(DomainError):
    code = "not_signed_in"
    status = 401

    def __init__(self) -> None:
        super().__init__(N_("Logga in för att fortsätta."))


class Forbidden(DomainError):
    code = "forbidden"
    status = 403

    def __init__(self) -> None:
        super().__init__(N_("Ditt konto har inte behörighet till den här sidan."))


class LinkExpired(DomainError):
    code = "link_expired"
    status = 404

    def __init__(self) -> None:
        super().__init__(
            N_("Länken har redan använts eller gått ut. Be om en ny på inloggningssidan.")
        )


# Access tokens for the organiser API (organisers/tokens.py, organisers/access.py). A bearer
# refusal says so in WWW-Authenticate (RFC 6750 §3): no token, or a bad one, is 401; a
# token whose account lacks the role is 403 (insufficient_scope).
BEARER_REALM = 'Bearer realm="lunchkafe-organiser"'


class InvalidToken(DomainError):
    """A token's name is wrong: `fields` says how."""

    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(N_("Åtkomstnyckeln kunde inte skapas."), fields=fields)


class TokenNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("Åtkomstnyckeln finns inte eller är redan återkallad."))


class BearerMissing(DomainError):
    """No `Authorization: Bearer` at all: the challenge without an error code (RFC 6750 §3.1)."""

    code = "not_signed_in"
    status = 401

    def __init__(self) -> None:
        super().__init__(
            N_("Skicka en åtkomstnyckel i Authorization: Bearer."),
            headers={"WWW-Authenticate": BEARER_REALM},
        )


class BearerRefused(DomainError):
    """A token that is unknown, revoked or whose account is disabled: one answer for all."""

    code = "invalid_token"
    status = 401

    def __init__(self) -> None:
        super().__init__(
            N_("Åtkomstnyckeln gäller inte: den är okänd, återkallad eller kontot avstängt."),
            headers={"WWW-Authenticate": BEARER_REALM + ', error="invalid_token"'},
        )


class BearerForbidden(DomainError):
    code = "forbidden"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            N_("Ditt konto har inte behörighet till den här sidan."),
            headers={"WWW-Authenticate": BEARER_REALM + ', error="insufficient_scope"'},
        )


MSG_NAME = N_("Skriv namnet.")
MSG_EMAIL = N_("Skriv en giltig e-postadress.")
MSG_EMAIL_TAKEN = N_("Det finns redan ett konto med den adressen.")
MSG_PASSWORD_SHORT = N_("Lösenordet måste ha minst 12 tecken.")
MSG_PASSWORD_LONG = N_("Lösenordet får ha högst 1 000 tecken.")
MSG_ROLE = N_("Välj roll: admin eller organiser.")


class ChangedSincePreview(DomainError):
    """The event, or who is booked on it, changed after the organiser saw the preview of a
    change: nothing is applied, and `preview` says what the change would do now."""

    code = "changed_since_preview"
    status = 409

    def __init__(self, preview: ChangePreview) -> None:
        super().__init__(
            N_(
                "Evenemanget har ändrats sedan du såg förhandsvisningen, så ingenting har "
                "skickats. Se efter vad ändringen gör nu och bekräfta igen."
            )
        )
        self.preview = preview


class NoDraftsToPublish(EventStateRefused):
    """None of the dates asked for is still a coming draft (published since, say)."""

    def __init__(self) -> None:
        super().__init__(N_("Det finns inga kommande utkast att publicera i serien."))


class DraftsChangedSinceShown(EventStateRefused):
    """A draft listed on a series' publish confirmation was changed (re-timed, renamed)
    after the page was shown: nothing is published, and the list is shown again."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Ett eller flera utkast har ändrats sedan du såg listan, så inget är "
                "publicerat. Se efter hur de ser ut nu och bekräfta igen."
            )
        )
