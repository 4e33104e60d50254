"""Personal access tokens for the organiser API: made, listed and revoked by their owner.

A token is 256 random bits (organisers.secrets), shown to its owner once when it is made;
only its SHA-256 is stored, so a copy of the database opens nothing. It acts with its
owner's role and stops at once when revoked or when the account is disabled
(accounts.disable revokes every token too, and `resolve` checks the account anyway).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from foundation.ids import is_id
from foundation.text import TextRefused, clean_line
from organisers import audit
from organisers.errors import InvalidToken, TokenNotFound
from organisers.models import AccessToken, Organiser
from organisers.secrets import hash_of, looks_like_token, new_token

MAX_NAME = 200  # characters, as the column holds


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and the secret itself, which is never stored."""

    token: AccessToken
    secret: str


async def create_token(
    session: AsyncSession, organiser: Organiser, name: str, now: datetime
) -> NewToken:
    """A new token for `organiser`, named so its owner can tell it apart ("Intranätet");
    logged. Raises InvalidToken when the name is empty, too long or not plain text."""
    try:
        name = clean_line(name, max_length=MAX_NAME, required=True)
    except TextRefused as exc:
        raise InvalidToken({"name": exc.msgid}) from None
    secret = new_token()
    token = AccessToken(
        organiser_id=organiser.id, name=name, token_hash=hash_of(secret), created_at=now
    )
    session.add(token)
    await session.flush()
    await audit.record(session, organiser, "token.created", f"token:{token.id}", now=now)
    return NewToken(token=token, secret=secret)


async def tokens_of(session: AsyncSession, organiser: Organiser) -> list[AccessToken]:
    """`organiser`'s tokens still in force, newest first."""
    rows = await session.scalars(
        select(AccessToken)
        .where(AccessToken.organiser_id == organiser.id, AccessToken.revoked_at.is_(None))
        .order_by(AccessToken.id.desc())
    )
    return list(rows.all())


async def token_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Each token among `ids` (revoked ones too) by its id, its name as its owner gave it,
    for the audit log that names them; never the secret or its hash. One query."""
    wanted = sorted(i for i in set(ids) if is_id(i))
    if not wanted:
        return {}
    rows = await session.execute(
        select(AccessToken.id, AccessToken.name).where(AccessToken.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


async def own_token(session: AsyncSession, organiser: Organiser, token_id: int) -> AccessToken:
    """`organiser`'s own token `token_id`, still in force. Raises TokenNotFound, also for
    someone else's token, so ids tell nobody what others hold."""
    token = await session.get(AccessToken, token_id) if is_id(token_id) else None
    if token is None or token.organiser_id != organiser.id or token.revoked_at is not None:
        raise TokenNotFound()
    return token


async def revoke_token(
    session: AsyncSession, organiser: Organiser, token_id: int, now: datetime
) -> AccessToken:
    """Revoke `organiser`'s own token `token_id` at once; logged. Raises TokenNotFound."""
    token = await own_token(session, organiser, token_id)
    token.revoked_at = now
    await audit.record(session, organiser, "token.revoked", f"token:{token.id}", now=now)
    return token


async def resolve(
    session: AsyncSession, secret: str, now: datetime, *, writes: bool
) -> tuple[Organiser, AccessToken] | None:
    """The organiser and token a bearer `secret` stands for, or None: unknown, revoked, or
    its account disabled. `writes`: the request changes something, so the token's
    `last_used_at` is set to `now` (a read writes nothing, not even that)."""
    if not looks_like_token(secret):
        return None
    token = await session.scalar(
        select(AccessToken)
        .options(selectinload(AccessToken.organiser))
        .where(AccessToken.token_hash == hash_of(secret))
    )
    if token is None or token.revoked_at is not None or token.organiser.disabled_at is not None:
        return None
    if writes:
        token.last_used_at = now
    return token.organiser, token


async def revoke_all(session: AsyncSession, organiser: Organiser, now: datetime) -> int:
    """Revoke every access token `organiser` has; how many. A new password and "sign out
    everywhere" call it: a token made with a stolen session must not outlive the cleanup."""
    result = await session.execute(
        update(AccessToken)
        .where(AccessToken.organiser_id == organiser.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
