"""Manage tokens: unguessable, derived from a stored nonce with the secret key, stored hashed.

Deriving rather than storing the token lets a reminder composed hours later carry the
attendee's manage link, while the database alone (a dump, a backup) opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_token(secret_key: str, nonce: str, purpose: str = "manage") -> str:
    digest = hmac.new(secret_key.encode(), f"{purpose}|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check so junk never reaches the database."""
    return len(token) == 43 and all(c.isalnum() or c in "-_" for c in token)
