"""Signing in and out of the workspace: the throttle, the check, the session, the log."""

from __future__ import annotations

from datetime import datetime

from foundation.ratelimit import TooManyBookings
from foundation.services import Services
from mail import addresses
from organisers import accounts, audit, sessions
from organisers.errors import SignInRefused, TooManySignIns


async def sign_in(services: Services, client: str, email: str, password: str, now: datetime) -> str:
    """A new session token for the account `email` and `password` sign in.

    Failures are limited per client address and per account (SIGN_IN_RATE_LIMIT*,
    foundation.ratelimit): over a limit raises TooManySignIns before the password is even
    checked. Raises SignInRefused, one answer for every failure.
    """
    limiter = services.sign_in_limiter
    address = addresses.canonical(email)  # one budget per account, however it is spelled
    try:
        # Failures only: an office behind one address signs in all day; a guesser fails.
        await limiter.check_failures(client)
        await limiter.check_address(address)
    except TooManyBookings as exc:
        raise TooManySignIns(exc.retry_after) from None
    try:
        async with services.transaction() as session:
            organiser = await accounts.authenticate(session, email, password, now)
            token = await sessions.start(session, organiser, now)
            await audit.record(session, organiser, "signed_in", f"account:{organiser.id}", now=now)
    except SignInRefused:
        await limiter.failed(client)
        await limiter.booked(address, True)  # counts against the account
        raise
    return token


async def sign_out(services: Services, token: str | None, now: datetime) -> None:
    """End the session `token` belongs to (None or unknown: nothing to end)."""
    if token is None:
        return
    async with services.transaction() as session:
        await sessions.end(session, token, now)
