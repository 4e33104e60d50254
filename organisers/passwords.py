"""Passwords: argon2id hashes (RFC 9106) via argon2-cffi, verified off the event loop.

A verify costs about 0.2 s of CPU by design; run on the loop it would stall every other
request meanwhile, so it runs in a worker thread. The length rules follow NIST SP 800-63B
§5.1.1.2: at least 12 characters, no composition rules, long passphrases welcome.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from organisers.errors import MSG_PASSWORD_LONG, MSG_PASSWORD_SHORT

MIN_LENGTH = 12
MAX_LENGTH = 1000

_hasher = PasswordHasher()
# Verified against when the address has no account, so a wrong address costs what a wrong
# password does and timing tells nobody which addresses have accounts.
_DUMMY = _hasher.hash("not a password anyone has")


def problem(password: str) -> str | None:
    """Why `password` cannot be used (a msgid), or None."""
    if len(password) < MIN_LENGTH:
        return MSG_PASSWORD_SHORT
    if len(password) > MAX_LENGTH:
        return MSG_PASSWORD_LONG
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: no account or no password yet, which is
    verified against a dummy so it takes as long)."""
    if len(password) > MAX_LENGTH:
        return False

    def check() -> bool:
        try:
            return _hasher.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
