"""Organiser accounts: adding, listing, disabling, passwords, signing in.

Addresses are compared without case. A disabled account signs in no more and its sessions and
access tokens stop working at once (they are checked against the account on every request).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.ids import is_id
from foundation.text import TextRefused, clean_name
from mail import addresses
from organisers import audit, passwords
from organisers.errors import (
    MSG_EMAIL,
    MSG_EMAIL_TAKEN,
    MSG_NAME,
    MSG_ROLE,
    AccountNotFound,
    InvalidAccount,
    SignInRefused,
)
from organisers.models import AccessToken, Organiser, OrganiserSession, Role

MAX_NAME = 200


async def add_organiser(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    now: datetime,
    by: Organiser | None = None,
) -> Organiser:
    """A new account, added by the admin `by` (None: the command line), and logged.
    `password` None leaves it to be set from an invitation link.

    Raises InvalidAccount naming each field that is wrong (name, email, role, password).
    """
    problems: dict[str, str] = {}
    try:
        name = clean_name(name, max_length=MAX_NAME)
    except TextRefused:
        problems["name"] = MSG_NAME
    try:
        # The rule for an address we can mail (mail/addresses.py), for any relay: an account
        # lives longer than a relay's configuration, and its mail is how it signs in again.
        email = addresses.deliverable(email.strip(), smtputf8=False)
    except addresses.Undeliverable:
        problems["email"] = MSG_EMAIL
    if role not in {r.value for r in Role}:
        problems["role"] = MSG_ROLE
    if password is not None and (problem := passwords.problem(password)):
        problems["password"] = problem
    if "email" not in problems and await find_by_email(session, email) is not None:
        problems["email"] = MSG_EMAIL_TAKEN
    if problems:
        raise InvalidAccount(problems)
    organiser = Organiser(
        email=email,
        email_normalised=addresses.canonical(email),
        name=name,
        role=Role(role),
        password_hash=await passwords.hash_password(password) if password else None,
        created_at=now,
    )
    session.add(organiser)
    await session.flush()
    await audit.record(session, by, "account.added", f"account:{organiser.id}", now=now, role=role)
    return organiser


async def find_by_email(session: AsyncSession, email: str) -> Organiser | None:
    return await session.scalar(
        select(Organiser).where(Organiser.email_normalised == addresses.canonical(email))
    )


async def get_organiser(session: AsyncSession, organiser_id: int) -> Organiser:
    """Raises AccountNotFound."""
    found = await session.get(Organiser, organiser_id)
    if found is None:
        raise AccountNotFound()
    return found


async def accounts_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, Organiser]:
    """Each account among `ids` that exists (disabled ones too) by its id, for a page that
    names many (the audit log). One query, none for no ids."""
    wanted = sorted(i for i in set(ids) if is_id(i))
    if not wanted:
        return {}
    rows = await session.scalars(select(Organiser).where(Organiser.id.in_(wanted)))
    return {account.id: account for account in rows.all()}


async def list_organisers(session: AsyncSession) -> list[Organiser]:
    """Every account, admins first, then by name."""
    rows = await session.scalars(select(Organiser).order_by(Organiser.role, Organiser.name))
    return list(rows.all())


async def disable(
    session: AsyncSession, organiser: Organiser, now: datetime, by: Organiser | None = None
) -> None:
    """Disable the account and end every session and access token it has; logged as by
    the admin `by` (None: the command line)."""
    organiser.disabled_at = now
    await audit.record(session, by, "account.disabled", f"account:{organiser.id}", now=now)
    await session.execute(
        update(OrganiserSession)
        .where(OrganiserSession.organiser_id == organiser.id, OrganiserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(
        update(AccessToken)
        .where(AccessToken.organiser_id == organiser.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def set_password(session: AsyncSession, organiser: Organiser, password: str) -> None:
    """Raises InvalidAccount when the password breaks the rules (organisers.passwords)."""
    if problem := passwords.problem(password):
        raise InvalidAccount({"password": problem})
    organiser.password_hash = await passwords.hash_password(password)


async def authenticate(
    session: AsyncSession, email: str, password: str, now: datetime
) -> Organiser:
    """The account `email` and `password` sign in. Raises SignInRefused, the same for an
    unknown address, a wrong password, a disabled account and one without a password."""
    organiser = await find_by_email(session, email)
    stored = organiser.password_hash if organiser is not None else None
    matches = await passwords.verify(stored, password)
    if organiser is None or not matches or organiser.disabled_at is not None:
        raise SignInRefused()
    organiser.last_sign_in_at = now
    return organiser
