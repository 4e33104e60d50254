"""What an admin does to an account in the workspace: look at it, disable it, sign it out
everywhere. Adding one and inviting it again are organisers.password_links' (they mail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.errors import N_, DomainError
from organisers import accounts, audit, sessions, tokens
from organisers.models import AccountLink, Organiser, OrganiserSession
from organisers.password_links import end_open_links


class OwnAccount(DomainError):
    """An admin may not disable their own account: the last admin would lock everyone out."""

    code = "own_account"
    status = 409

    def __init__(self) -> None:
        super().__init__(N_("Du kan inte stänga av ditt eget konto."))


@dataclass(frozen=True)
class AccountView:
    """One account as its page shows it: sessions not ended (some may have run out since)
    and when its newest unused link runs out (None: no open link)."""

    organiser: Organiser
    open_sessions: int
    link_expires_at: datetime | None


async def account_view(session: AsyncSession, account_id: int, now: datetime) -> AccountView:
    """Raises AccountNotFound."""
    organiser = await accounts.get_organiser(session, account_id)
    open_sessions = await session.scalar(
        select(func.count())
        .select_from(OrganiserSession)
        .where(OrganiserSession.organiser_id == organiser.id, OrganiserSession.revoked_at.is_(None))
    )
    link_expires_at = await session.scalar(
        select(func.max(AccountLink.expires_at)).where(
            AccountLink.organiser_id == organiser.id,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
    )
    if isinstance(link_expires_at, str):  # SQLite hands an aggregate back untyped
        link_expires_at = datetime.fromisoformat(link_expires_at)
    if link_expires_at is not None and link_expires_at.tzinfo is None:
        link_expires_at = link_expires_at.replace(tzinfo=UTC)
    return AccountView(organiser, int(open_sessions or 0), link_expires_at)


async def disable_account(
    session: AsyncSession, account_id: int, *, by: Organiser, now: datetime
) -> Organiser:
    """Disable account `account_id` as the admin `by`: it signs in no more, and its
    sessions, access tokens (organisers.accounts.disable) and open links end. Disabling a
    disabled account changes nothing. Raises AccountNotFound, and OwnAccount for the
    admin's own."""
    organiser = await accounts.get_organiser(session, account_id)
    if organiser.id == by.id:
        raise OwnAccount()
    if organiser.disabled_at is None:
        await accounts.disable(session, organiser, now, by=by)
        await end_open_links(session, organiser.id, now)
    return organiser


async def sign_out_everywhere(
    session: AsyncSession, account_id: int, *, by: Organiser, now: datetime
) -> int:
    """End every session and revoke every access token of account `account_id` (the
    admin's own included); how many sessions ended. Logged with both counts. Raises
    AccountNotFound."""
    organiser = await accounts.get_organiser(session, account_id)
    ended = await sessions.end_all(session, organiser, now)
    revoked = await tokens.revoke_all(session, organiser, now)
    await audit.record(
        session,
        by,
        "account.signed_out",
        f"account:{organiser.id}",
        now=now,
        sessions=ended,
        tokens_revoked=revoked,
    )
    return ended
