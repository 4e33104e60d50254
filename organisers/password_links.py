"""One-time links mailed to an organiser to set a password: an invitation (a first password,
valid 7 days) and a reset after "forgot password" (valid 1 hour). A link works once, a newer
link of the account ends the older ones, and setting a password ends every session the
account had (a reset is what one does after a password may have leaked).

Where the token lives: nowhere. The mail is composed at delivery, in a worker, so the token
must be reachable there, yet the outbox row is database content like any other (backups,
dumps, the outbox pages). So the token is derived, as the attendees' manage tokens are
(registrations/tokens.py): token = HMAC-SHA256(SECRET_KEY, "organiser-link|" + nonce),
43 characters of base64url, where the nonce (128 random bits) rides in the outbox row's
payload and the AccountLink keeps only SHA-256(token). The database alone opens nothing,
and the token is written to no table and no log line. If SECRET_KEY changes before the mail
goes, the derived token no longer matches the stored hash and the mail is skipped as moot
(the person asks for a new link).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from foundation.errors import N_, DomainError
from foundation.ratelimit import TooManyBookings
from foundation.services import Services
from mail import addresses
from mail.models import MessageKind
from mail.outbox import enqueue
from organisers import accounts, audit, passwords, sessions, tokens
from organisers.errors import InvalidAccount, LinkExpired, TooManySignIns
from organisers.models import AccountLink, LinkPurpose, Organiser
from organisers.secrets import hash_of, looks_like_token

# A typo in a password nobody sees is found only at the next sign-in: typed twice, it is caught.
MSG_PASSWORDS_DIFFER = N_("Lösenorden är inte likadana. Skriv samma lösenord i båda fälten.")

LIFETIME = {LinkPurpose.INVITE: timedelta(days=7), LinkPurpose.RESET: timedelta(hours=1)}
MAIL_KIND = {
    LinkPurpose.INVITE: MessageKind.ORGANISER_INVITE,
    LinkPurpose.RESET: MessageKind.PASSWORD_RESET,
}


class InvitationNotNeeded(DomainError):
    """The account has a password already, or is disabled: an invitation would open nothing
    (a person who forgot the password asks for a link on the sign-in page)."""

    code = "invitation_not_needed"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            N_("Kontot har redan ett lösenord eller är avstängt, så ingen inbjudan skickades.")
        )


def derive_token(secret_key: str, nonce: str) -> str:
    """The link's token from its nonce: HMAC-SHA256 under SECRET_KEY, base64url, 43 chars."""
    digest = hmac.new(
        secret_key.encode(), f"organiser-link|{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def issue(
    session: AsyncSession,
    organiser: Organiser,
    purpose: LinkPurpose,
    *,
    secret_key: str,
    now: datetime,
) -> AccountLink:
    """A new link for `organiser`, its mail written to the outbox (payload: link_id, nonce);
    the account's earlier unused links stop working."""
    await end_open_links(session, organiser.id, now)
    nonce = secrets.token_hex(16)
    link = AccountLink(
        organiser_id=organiser.id,
        purpose=purpose,
        token_hash=hash_of(derive_token(secret_key, nonce)),
        created_at=now,
        expires_at=now + LIFETIME[purpose],
    )
    session.add(link)
    await session.flush()
    await enqueue(
        session,
        kind=MAIL_KIND[purpose],
        recipient=organiser.email,
        dedupe_key=f"account-link:{link.id}",
        payload={"link_id": link.id, "nonce": nonce},
    )
    return link


async def invite(
    session: AsyncSession,
    organiser: Organiser,
    *,
    secret_key: str,
    now: datetime,
    by: Organiser | None = None,
) -> AccountLink:
    """Mail `organiser` an invitation to set a first password; logged as by the admin `by`
    (None: the command line). Raises InvitationNotNeeded for an account with a password or
    a disabled one."""
    if organiser.password_hash is not None or organiser.disabled_at is not None:
        raise InvitationNotNeeded()
    link = await issue(session, organiser, LinkPurpose.INVITE, secret_key=secret_key, now=now)
    await audit.record(
        session, by, "account.invited", f"account:{organiser.id}", now=now, link=link.id
    )
    return link


async def add_with_invitation(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: str,
    secret_key: str,
    now: datetime,
    by: Organiser | None = None,
) -> Organiser:
    """A new account without a password, and its invitation mail. Raises InvalidAccount
    naming each field that is wrong (organisers.accounts.add_organiser)."""
    organiser = await accounts.add_organiser(
        session, email=email, name=name, role=role, password=None, now=now, by=by
    )
    await invite(session, organiser, secret_key=secret_key, now=now, by=by)
    return organiser


async def request_reset(services: Services, client: str, email: str, now: datetime) -> None:
    """Mail a reset link to `email` if it is an account's that is not disabled; otherwise do
    nothing, and say nothing either way (the caller's answer is the same for any address).

    Limited per client (SIGN_IN_RATE_LIMIT) and per address with a budget of its own
    (foundation.ratelimit.RESET_RATE_LIMIT_PER_ADDRESS), apart from sign-ins, so asking for
    links never locks an account out of signing in. Every request counts, whether or not
    the address has an account, so neither the limit nor its absence tells which addresses
    do. Raises TooManySignIns over a limit.
    """
    limiter = services.reset_limiter
    address = addresses.canonical(email)  # one budget per account, however it is spelled
    try:
        await limiter.check(client, address)
    except TooManyBookings as exc:
        raise TooManySignIns(exc.retry_after) from None
    await limiter.booked(address, True)
    async with services.transaction() as session:
        organiser = await accounts.find_by_email(session, address) if address else None
        if organiser is None or organiser.disabled_at is not None:
            return
        link = await issue(
            session,
            organiser,
            LinkPurpose.RESET,
            secret_key=services.settings.secret_key,
            now=now,
        )
        await audit.record(
            session,
            None,
            "password.reset_requested",
            f"account:{organiser.id}",
            now=now,
            link=link.id,
        )


async def open_link(session: AsyncSession, token: str, now: datetime) -> AccountLink:
    """The link `token` opens, with its account: unused, not expired, the account not
    disabled. Raises LinkExpired otherwise, one answer for unknown, used and expired."""
    found = None
    if looks_like_token(token):
        found = await session.scalar(
            select(AccountLink)
            .options(selectinload(AccountLink.organiser))
            .where(AccountLink.token_hash == hash_of(token))
        )
    if (
        found is None
        or found.used_at is not None
        or found.expires_at <= now
        or found.organiser.disabled_at is not None
    ):
        raise LinkExpired()
    return found


async def set_password(
    services: Services, token: str, password: str, now: datetime, *, repeated: str | None = None
) -> str:
    """Set the password of the account the link `token` opens and sign it in: the link is
    used up, the account's other links and every session it had end, and the new session's
    token is returned (for the cookie; never stored).

    Raises LinkExpired (checked first, and again when the link is taken, so two tabs racing
    with one link cannot both succeed) and InvalidAccount for a password breaking the rules
    (organisers.passwords, naming `password`) or, when the form asked for it twice,
    `repeated` differing from it (naming `password_again`).
    """
    async with services.transaction() as session:
        await open_link(session, token, now)
    errors = {}
    if problem := passwords.problem(password):
        errors["password"] = problem
    if repeated is not None and repeated != password:
        errors["password_again"] = MSG_PASSWORDS_DIFFER
    if errors:
        raise InvalidAccount(errors)
    # Hashed outside any transaction: it takes a while, and SQLite's write lock is held
    # from BEGIN.
    password_hash = await passwords.hash_password(password)
    async with services.transaction() as session:
        link = await open_link(session, token, now)
        taken = await session.execute(
            update(AccountLink)
            .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
            .values(used_at=now)
        )
        if getattr(taken, "rowcount", 0) != 1:
            raise LinkExpired()
        organiser = link.organiser
        organiser.password_hash = password_hash
        organiser.last_sign_in_at = now
        await end_open_links(session, organiser.id, now)
        ended = await sessions.end_all(session, organiser, now)
        revoked = await tokens.revoke_all(session, organiser, now)
        new_session = await sessions.start(session, organiser, now)
        await audit.record(
            session,
            organiser,
            "password.set",
            f"account:{organiser.id}",
            now=now,
            purpose=link.purpose.value,
            sessions_ended=ended,
            tokens_revoked=revoked,
        )
    return new_session


async def invite_again(
    session: AsyncSession, account_id: int, *, secret_key: str, by: Organiser, now: datetime
) -> Organiser:
    """A new invitation for account `account_id`, the earlier links ended. Raises
    AccountNotFound and InvitationNotNeeded."""
    organiser = await accounts.get_organiser(session, account_id)
    await invite(session, organiser, secret_key=secret_key, now=now, by=by)
    return organiser


async def end_open_links(session: AsyncSession, organiser_id: int, now: datetime) -> None:
    """Every unused link of the account stops working now."""
    await session.execute(
        update(AccountLink)
        .where(
            AccountLink.organiser_id == organiser_id,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(expires_at=now)
    )
