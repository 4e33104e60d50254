"""Random tokens for sessions, access tokens and one-time links; only their hashes are kept."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits


def new_token() -> str:
    """A fresh token, URL-safe, 43 characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_of(token: str) -> str:
    """What is stored for a token: its SHA-256, hex (a random 256-bit token needs no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check, so junk never reaches a query."""
    return len(value) == 43 and all(c.isalnum() or c in "-_" for c in value)
