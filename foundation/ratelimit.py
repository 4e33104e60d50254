"""Booking floods held back: limits per client address and per booked e-mail address.

Counted with the `limits` library's moving window (exact: no burst of twice the limit at a
window's edge), in process memory without `REDIS_URL` and in Redis, shared by every web
process, with it. The limits are `Settings.booking_rate_limit` (per client address) and
`Settings.booking_rate_limit_per_email`; an empty tuple turns one off.

The two limits count different things. The client limit counts every attempt, before it is
made, so a script is held back whatever it sends. The address limit is only tested before a
booking and counted after one that created (or re-created) a registration, that is one that
mails a new confirmation to that inbox: counting attempts would let anyone who knows an
address lock its owner out for a day with requests for events that do not exist or that the
address already holds (those send nothing new; a repeat's link goes again at most once an
hour per inbox, registrations.booking).

An inbox has two budgets (`mailbox_budget`): its own spelling, and every other spelling of
it (`+tag`s, Gmail's dots) together. Other spellings are a script's way to make many
registrations for one inbox in a single event; with one budget, that would lock the owner's
own address out of booking for a day. So an inbox can receive up to twice the limit.

One booking request counts once, whatever it books: a series form that books every event of
a series is one hit, so a person booking a whole series is never held back for it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from starlette.requests import Request

from foundation.errors import N_, DomainError
from foundation.settings import Settings

# Named for operators, whatever the module is called (README, "Worth an alert").
log = logging.getLogger("lunchkafe.ratelimit")

# A Redis that hangs must not hold a booking for long: after this the booking goes through.
REDIS_TIMEOUT_SECONDS = 0.5
# One warning per outage-minute is enough to be noticed without flooding the log.
WARNING_INTERVAL_SECONDS = 60.0


# Providers that ignore dots in the local part: a.n.n.a@ and anna@ are one inbox there.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def inbox_of(email_normalised: str) -> str:
    """The inbox an address delivers to, as far as limits go: `anna+1@x` and `anna+2@x` are
    one inbox (subaddressing, RFC 5233), as are Gmail's dotted spellings. Without this a
    script floods one person through endless spellings of their address."""
    local, _, domain = email_normalised.rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), _DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def mailbox_budget(email_normalised: str) -> str:
    """The budget a booking of `email_normalised` counts against: its inbox (`inbox_of`)
    for the inbox's own spelling, and one shared by every other spelling of it (`+tag`s,
    Gmail's dots)."""
    inbox = inbox_of(email_normalised)
    return inbox if email_normalised == inbox else inbox + " (other spellings)"


def client_host(request: Request) -> str:
    """The address a request came from: uvicorn puts the X-Forwarded-For address there only
    for proxies listed in FORWARDED_ALLOW_IPS, else the peer's own."""
    return request.client.host if request.client else "unknown"


def client_of(host: str) -> str:
    """The client a limit counts: its IPv4 address, or its IPv6 /64 network, since one
    IPv6 subscriber is handed a whole /64 and could otherwise take a new address per try."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address ("unknown", a test client's name)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


# Reset links one address may be sent: a person who lost a mail asks again, a script is held.
RESET_RATE_LIMIT_PER_ADDRESS: tuple[RateLimitItem, ...] = tuple(parse_many("3/hour;10/day"))
# An organiser's sends (messages and reminders to everyone on an event): per sender (an
# access token, or an account in the workspace) and per event, whoever sends. Far above
# what a person writes, far below a script's flood of everyone's inbox.
SEND_RATE_LIMIT_PER_SENDER: tuple[RateLimitItem, ...] = tuple(parse_many("10/minute;100/day"))
SEND_RATE_LIMIT_PER_EVENT: tuple[RateLimitItem, ...] = tuple(parse_many("5/minute;30/day"))
# Proposals to the guide ('Dela med dig', guide/proposals.py): a person shares a few examples
# in a sitting; a script filling the organisers' queue is held back per client and per inbox.
PROPOSAL_RATE_LIMIT_PER_CLIENT: tuple[RateLimitItem, ...] = tuple(parse_many("5/hour;20/day"))
PROPOSAL_RATE_LIMIT_PER_ADDRESS: tuple[RateLimitItem, ...] = tuple(parse_many("3/hour;10/day"))


class Created(Protocol):
    @property
    def created(self) -> bool:
        """Whether the booking made a new registration (and mailed the address)."""
        ...


Booked = TypeVar("Booked", bound=Created)


class TooManyBookings(DomainError):
    """Over a booking limit; `retry_after` is whole seconds until one more is allowed,
    sent as `Retry-After` (RFC 9110 §10.2.3: a delay in seconds)."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("För många bokningar på kort tid. Försök igen om %(seconds)s sekunder."),
            headers={"Retry-After": str(retry_after)},
            seconds=retry_after,
        )
        self.retry_after = retry_after
        self.extensions = {"retry_after": retry_after}


@dataclass
class AttemptLimiter:
    """Attempts held back per client address and per e-mail address: bookings (the
    settings' booking limits) and organisers' failed sign-ins (`for_sign_in`)."""

    per_client: tuple[RateLimitItem, ...]
    per_email: tuple[RateLimitItem, ...]
    secret_key: str = field(repr=False)
    strategy: MovingWindowRateLimiter
    pool: ConnectionPool | None = None
    _warned_at: float = -math.inf

    @classmethod
    def from_settings(cls, settings: Settings) -> AttemptLimiter:
        """The booking limits: BOOKING_RATE_LIMIT per client, _PER_EMAIL per inbox."""
        return cls._built(
            settings,
            settings.booking_rate_limit,
            settings.booking_rate_limit_per_email,
            "booking-limits",
        )

    @classmethod
    def for_sign_in(cls, settings: Settings) -> AttemptLimiter:
        """Organisers' sign-ins: SIGN_IN_RATE_LIMIT per client, SIGN_IN_RATE_LIMIT_PER_ACCOUNT
        per account, counted on failures (`booked(address, True)` after a refusal)."""
        return cls._built(
            settings,
            settings.sign_in_rate_limit,
            settings.sign_in_rate_limit_per_account,
            "sign-in-limits",
        )

    @classmethod
    def for_password_resets(cls, settings: Settings) -> AttemptLimiter:
        """ "Forgot password" requests: SIGN_IN_RATE_LIMIT per client, and per address a
        budget of their own (RESET_RATE_LIMIT_PER_ADDRESS), so asking for links can neither
        lock an account's sign-in nor flood its inbox."""
        return cls._built(
            settings, settings.sign_in_rate_limit, RESET_RATE_LIMIT_PER_ADDRESS, "reset-limits"
        )

    @classmethod
    def for_sends(cls, settings: Settings) -> AttemptLimiter:
        """Organisers' sends: SEND_RATE_LIMIT_PER_SENDER per sender, SEND_RATE_LIMIT_PER_EVENT
        per event (`check_send`)."""
        return cls._built(
            settings, SEND_RATE_LIMIT_PER_SENDER, SEND_RATE_LIMIT_PER_EVENT, "send-limits"
        )

    @classmethod
    def for_proposals(cls, settings: Settings) -> AttemptLimiter:
        """Proposals to the guide: PROPOSAL_RATE_LIMIT_PER_CLIENT per client, counted on
        every attempt (`check`), and PROPOSAL_RATE_LIMIT_PER_ADDRESS per contact inbox,
        counted on each one stored (`booked`)."""
        return cls._built(
            settings,
            PROPOSAL_RATE_LIMIT_PER_CLIENT,
            PROPOSAL_RATE_LIMIT_PER_ADDRESS,
            "proposal-limits",
        )

    @classmethod
    def for_data_links(cls, settings: Settings) -> AttemptLimiter:
        """Links to a person's own data (/my-data): SIGN_IN_RATE_LIMIT per client, and per
        address RESET_RATE_LIMIT_PER_ADDRESS, a budget of its own, so nobody can flood an
        inbox with them."""
        return cls._built(
            settings, settings.sign_in_rate_limit, RESET_RATE_LIMIT_PER_ADDRESS, "data-links"
        )

    @classmethod
    def _built(
        cls,
        settings: Settings,
        per_client: tuple[RateLimitItem, ...],
        per_email: tuple[RateLimitItem, ...],
        name: str,
    ) -> AttemptLimiter:
        storage: Storage
        pool = None
        if settings.redis_url:
            # Our own pool, so close() can release it; wrapped errors let check() tell a
            # storage failure from a refusal.
            pool = ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            storage = RedisStorage(
                "async+" + settings.redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=f"lunchkafe:{name}",
                # The redis-py bridge takes a pool (limits' use_basic); its annotation is narrower.
                connection_pool=pool,  # type: ignore[arg-type]
            )
        else:
            storage = MemoryStorage()
        return cls(
            per_client=per_client,
            per_email=per_email,
            secret_key=settings.secret_key,
            strategy=MovingWindowRateLimiter(storage),
            pool=pool,
        )

    async def check(self, client: str, email_normalised: str) -> None:
        """Count one booking attempt for the client and test the address; raise TooManyBookings.

        Call before booking; after a booking that created a registration call `booked`. The
        address is only tested here, never counted (see the module's docstring for why).
        `client` is the requester's address (`client_host(request)`). If the storage fails
        the booking goes through (a missed limit costs less than a lost booking) and a
        warning is logged.
        """
        counted = [(item, self._key("client", client_of(client))) for item in self.per_client]
        budget = mailbox_budget(email_normalised)
        tested = [(item, self._key("email", budget)) for item in self.per_email]
        if not counted and not tested:
            return
        await self._admit(counted, tested)

    async def around(
        self, client: str, email_normalised: str, booking: Callable[[], Awaitable[Booked]]
    ) -> Booked:
        """Run `booking` within the limits: `check`, then `booking()`, then `booked` with its
        result's `created`. Raises TooManyBookings before booking anything when over a limit.

        One attempt counts once however many events it books (a whole series included).
        """
        await self.check(client, email_normalised)
        result = await booking()
        await self.booked(email_normalised, result.created)
        return result

    async def booked(self, email_normalised: str, created: bool) -> None:
        """Count one booking against the address's budget when it `created` a registration.

        `created` is BookingResult.created (for a series: any of them), true exactly when a
        new confirmation goes to the address. Never raises: the booking is already made, so
        a full window or a failing storage only means the next `check` decides.
        """
        if not created:
            return
        try:
            for item in self.per_email:
                await self.strategy.hit(item, self._key("email", mailbox_budget(email_normalised)))
        except StorageError as exc:
            self._warn(exc)

    async def check_send(self, sender: str, event_id: int) -> None:
        """Count one send attempt of `sender` ("token:…", "account:3") to the people of event
        `event_id` against the per-client and per-email limits (for_sends: per sender, per
        event); raise TooManyBookings when over one, counting none. Every attempt counts,
        a repeated one too. A failing storage lets the send through (and warns)."""
        counted = [(item, self._key("sender", sender)) for item in self.per_client] + [
            (item, self._key("event", str(event_id))) for item in self.per_email
        ]
        await self._admit(counted, [])

    async def _admit(
        self, counted: list[tuple[RateLimitItem, str]], tested: list[tuple[RateLimitItem, str]]
    ) -> None:
        """Count one attempt against each of `counted` and test `tested`; raise
        TooManyBookings (the longest wait) when any is used up. All are tested before any is
        counted, so a refusal by one limit uses up none of the others. A failing storage lets
        the attempt through (and warns)."""
        try:
            waits = [
                await self._wait(item, key)
                for item, key in counted + tested
                if not await self.strategy.test(item, key)
            ]
            if not waits:
                for item, key in counted:
                    if not await self.strategy.hit(item, key):  # another process came first
                        waits.append(await self._wait(item, key))
        except StorageError as exc:
            self._warn(exc)
            return
        if waits:
            raise TooManyBookings(max(waits))

    async def check_failures(self, client: str) -> None:
        """Raise TooManyBookings when `client` has used up its per-client limits on failed
        attempts (counted by `failed`); counts nothing itself. For credentials a client
        presents on every request (the organiser API's bearer tokens), where counting every
        attempt would hold back honest use. A failing storage lets the attempt through."""
        await self._refuse_over(self.per_client, self._key("failed", client_of(client)))

    async def check_address(self, email_normalised: str) -> None:
        """Raise TooManyBookings when the address has used up its per-address limits
        (counted by `booked`); counts nothing itself. A failing storage lets it through."""
        await self._refuse_over(
            self.per_email, self._key("email", mailbox_budget(email_normalised))
        )

    async def _refuse_over(self, items: tuple[RateLimitItem, ...], key: str) -> None:
        """Raise TooManyBookings when `key` has used up any of `items`; count nothing. A
        failing storage lets the attempt through (and warns)."""
        try:
            waits = [
                await self._wait(item, key)
                for item in items
                if not await self.strategy.test(item, key)
            ]
        except StorageError as exc:
            self._warn(exc)
            return
        if waits:
            raise TooManyBookings(max(waits))

    async def failed(self, client: str) -> None:
        """Count one failed attempt of `client` against its per-client limits. Never raises."""
        key = self._key("failed", client_of(client))
        try:
            for item in self.per_client:
                await self.strategy.hit(item, key)
        except StorageError as exc:
            self._warn(exc)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()

    def _key(self, kind: str, value: str) -> str:
        # Keyed hashes: the storage (Redis, shared) never holds an address in the clear.
        digest = hmac.new(self.secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()[:32]}"

    async def _wait(self, item: RateLimitItem, key: str) -> int:
        stats = await self.strategy.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _warn(self, exc: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARNING_INTERVAL_SECONDS:
            self._warned_at = now
            # The kind of failure only: its text could name keys or connection details.
            log.warning(
                "booking rate limits not enforced: storage unreachable (%s); bookings go through",
                type(exc.storage_error).__name__,
            )
