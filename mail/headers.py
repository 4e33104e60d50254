"""Mail headers that carry what people typed, without letting it become a header of its own.

Python's `email` decodes RFC 2047 encoded words it finds in a display name or a Subject and,
on runtimes without `verify_generated_headers` (3.11 before 3.11.10, 3.12 before 3.12.5), can
fold what they hide, CRLF included, into real header lines. So text from people is made
neutral (foundation.text.neutral_line) before it is set, and every composed message is checked
the way `verify_generated_headers` checks it, whatever the runtime.
"""

from __future__ import annotations

import re
from email import policy
from email.errors import HeaderDefect
from email.headerregistry import Address
from email.message import EmailMessage

from foundation.text import neutral_line

# Where the runtime has it, the generator itself refuses a header that would break into
# several lines; on older runtimes verify_headers() below is the only check.
POLICY = (
    policy.default.clone(verify_generated_headers=True)
    if hasattr(policy.default, "verify_generated_headers")
    else policy.default
)
_WIRE = policy.SMTP
# The same test as CPython's email.generator.NEWLINE_WITHOUT_FWSP (gh-121650), plus the
# other C0 controls and DEL, which have no business in a header either (RFC 5322 §2.2).
_NEWLINE_WITHOUT_FWSP = re.compile(r"\r\n[^ \t]|\r[^ \n\t]|\n[^ \t]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UnsafeHeader(ValueError):
    """A header would not be one header line on the wire; the message names no personal data."""


def mailbox(name: str, address: str) -> Address:
    """`Name <address>` for To/Cc with the name made neutral. Raises UnsafeHeader."""
    try:
        return Address(display_name=neutral_line(name), addr_spec=address)
    except (ValueError, HeaderDefect):
        # The library's own message quotes the address; say nothing personal instead.
        raise UnsafeHeader("the recipient address cannot be written in a header") from None


def subject(text: str) -> str:
    """A Subject made of people's words (titles, organisers' subjects), on one safe line."""
    return neutral_line(text)


def verify_headers(message: EmailMessage) -> None:
    """Raise UnsafeHeader if any header of any part would not stay one header on the wire.

    Folds each header as aiosmtplib and the mailbox write it (policy.SMTP) and looks for a line
    break not followed by white space, as `verify_generated_headers` does on newer runtimes.
    """
    for part in message.walk():
        for name, value in part.raw_items():
            folded = _WIRE.fold(name, value)
            body = folded.removesuffix("\r\n")
            if body == folded or _NEWLINE_WITHOUT_FWSP.search(body) or _OTHER_CONTROLS.search(body):
                raise UnsafeHeader(f"the {name} header would break out of its line")
