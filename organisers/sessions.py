"""Signed-in browsers: a random token in a cookie, its hash in `organiser_sessions`.

Stored server-side so that signing out, an admin, or disabling the account ends a session at
once. How long a session may sit idle is kept in the cookie's own signed timestamp
(organisers/access.py), so reading a page writes nothing; how long it may live at all is
checked here against when it began.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from organisers.models import Organiser, OrganiserSession
from organisers.secrets import hash_of, looks_like_token, new_token


async def start(session: AsyncSession, organiser: Organiser, now: datetime) -> str:
    """A new session for `organiser`; the token to put in the cookie (never stored)."""
    token = new_token()
    session.add(
        OrganiserSession(organiser_id=organiser.id, token_hash=hash_of(token), created_at=now)
    )
    await session.flush()
    return token


async def resolve(
    session: AsyncSession, token: str, now: datetime, *, max_age: timedelta
) -> Organiser | None:
    """The organiser a session token signs in, or None: unknown, ended, older than
    `max_age`, or its account disabled."""
    if not looks_like_token(token):
        return None
    found = await session.scalar(
        select(OrganiserSession)
        .options(selectinload(OrganiserSession.organiser))
        .where(OrganiserSession.token_hash == hash_of(token))
    )
    if found is None or found.revoked_at is not None or now - found.created_at > max_age:
        return None
    if found.organiser.disabled_at is not None:
        return None
    return found.organiser


async def end(session: AsyncSession, token: str, now: datetime) -> None:
    """Sign the session out (an unknown token changes nothing)."""
    if looks_like_token(token):
        await session.execute(
            update(OrganiserSession)
            .where(
                OrganiserSession.token_hash == hash_of(token), OrganiserSession.revoked_at.is_(None)
            )
            .values(revoked_at=now)
        )


async def end_all(session: AsyncSession, organiser: Organiser, now: datetime) -> int:
    """Sign `organiser` out everywhere; how many sessions ended."""
    result = await session.execute(
        update(OrganiserSession)
        .where(OrganiserSession.organiser_id == organiser.id, OrganiserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
