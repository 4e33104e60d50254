"""The one base of every refusal a domain rule makes.

A domain error says what went wrong in words for the person who asked, and how an adapter
answers it: `code` is a stable name for programs (the API's `code`), `status` the HTTP status
(RFC 9110 §15), `message` the Swedish sentence, which pages translate with gettext (the
message ids are Swedish) and the API returns as is, in an RFC 9457 problem document.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
