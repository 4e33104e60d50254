"""Booking a seat, a whole series, and cancelling: the rules attendees rely on."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.errors import EventNotFound, SeriesNotFound
from events.models import Event, EventStatus, Series
from events.opening import BookingClosed, check_bookable, split_bookable
from events.schedule import lock_event
from foundation import metrics
from foundation.ids import is_id
from foundation.ratelimit import inbox_of
from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import MessageKind
from mail.outbox import enqueue
from registrations import dedupe_keys, errors
from registrations.attendee import Attendee
from registrations.feeds import ensure_feed
from registrations.models import Registration, RegistrationStatus
from registrations.seat_claims import claim_seat
from registrations.seat_releases import release_seat
from registrations.tokens import derive_token, hash_token, looks_like_token, new_nonce
from registrations.waitlist import (
    promote_from_waitlist,
    refuse_unless_seatable,
    waitlist_position,
)


@dataclass(frozen=True)
class BookingResult:
    registration: Registration
    event: Event
    # Only for a new booking, and never shown to whoever booked: their answer is a
    # registrations.receipt.Receipt. The owner of the address gets the link by mail.
    manage_token: str | None
    created: bool  # False: this address already had a seat or a place in line
    waitlist_position: int | None

    @property
    def confirmed(self) -> bool:
        return self.registration.status == RegistrationStatus.CONFIRMED


@dataclass(frozen=True)
class SeriesBookingResult:
    booked: list[BookingResult]
    skipped: list[tuple[Event, BookingClosed]]  # could not be booked, and why

    @property
    def created(self) -> bool:
        """Whether any event got a new registration, and so a new mail went to the address."""
        return any(b.created for b in self.booked)


def manage_token(registration: Registration, secret_key: str) -> str:
    return derive_token(secret_key, registration.token_nonce)


def _bookable_or_refuse(event: Event | None, now: datetime, tz_name: str) -> None:
    """Raise EventNotFound for no event or a draft, BookingClosed when it is not open."""
    if event is None or event.status == EventStatus.DRAFT:
        raise EventNotFound()
    check_bookable(event, now, tz_name=tz_name)


async def book(
    session: AsyncSession,
    *,
    event_id: int,
    attendee: Attendee,
    secret_key: str,
    now: datetime | None = None,
    tz_name: str = "Europe/Stockholm",
) -> BookingResult:
    """Give the attendee a seat, or the next place on the waitlist; idempotent per address.

    A repeat by an address that holds a seat or a place in line changes nothing and mails
    the booking's link again (see `_resend_link`). Raises EventNotFound, or BookingClosed
    when the event cannot be booked now, whether or not the address already holds it.
    """
    now = now or utcnow()
    # Refused before anything is written: a booking of no event, a draft (never public, so
    # answered as none) or a closed event stores nothing, not even the personal feed.
    _bookable_or_refuse(
        await session.get(Event, event_id) if is_id(event_id) else None, now, tz_name
    )
    # The personal feed next, before any event lock: taking the two in different orders
    # in a series booking and a single booking by one person could deadlock.
    await ensure_feed(session, attendee.email_normalised, secret_key)
    event = await lock_event(session, event_id)
    # Checked again under the lock, and before looking for the address's registration, so
    # that a closed event answers a stranger and a holder alike: otherwise the answer would
    # tell who is booked.
    _bookable_or_refuse(event, now, tz_name)
    assert event is not None
    existing = await session.scalar(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.email_normalised == attendee.email_normalised,
        )
    )
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        await _resend_link(session, existing, event, now, secret_key)
        return BookingResult(
            registration=existing,
            event=event,
            manage_token=None,
            created=False,
            waitlist_position=await waitlist_position(session, existing),
        )
    return await _seat(session, event, attendee, existing, now=now, secret_key=secret_key)


async def _seat(
    session: AsyncSession,
    event: Event,
    attendee: Attendee,
    existing: Registration | None,
    *,
    now: datetime,
    secret_key: str,
) -> BookingResult:
    """Store the booking under the event's lock, the caller holds it: a seat when one is
    free, else the next place in line, and queue the mail that says which."""
    event_id = event.id
    seat_free = event.confirmed_count < event.capacity
    if existing is None:
        nonce = new_nonce()
        registration = Registration(
            event_id=event_id,
            email_normalised=attendee.email_normalised,
            token_nonce=nonce,
            manage_token_hash=hash_token(derive_token(secret_key, nonce)),
            sequence_bump=0,
            created_at=now,
        )
        session.add(registration)
    else:
        registration = existing
        registration.sequence_bump += 1  # outrank the CANCEL this person already received
        registration.cancelled_at = None
        # A fresh link: whoever rebooks must not inherit the old one (nor it theirs).
        registration.token_nonce = new_nonce()
        registration.manage_token_hash = hash_token(
            derive_token(secret_key, registration.token_nonce)
        )
    registration.name = attendee.name
    registration.email = attendee.email
    registration.organisation = attendee.organisation
    registration.municipality = attendee.municipality
    registration.language = attendee.language
    registration.consent_at = now
    registration.updated_at = now
    if seat_free:
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = now
        registration.waitlist_number = None
        event.confirmed_count += 1
    else:
        event.waitlist_counter += 1
        event.waitlisted_count += 1
        registration.status = RegistrationStatus.WAITLISTED
        registration.waitlist_number = event.waitlist_counter
    await session.flush()
    position = await waitlist_position(session, registration)
    await enqueue(
        session,
        kind=MessageKind.BOOKING_CONFIRMED if seat_free else MessageKind.WAITLISTED,
        recipient=registration.email,
        dedupe_key=dedupe_keys.booked(registration.id, registration.sequence_bump),
        event_id=event_id,
        registration_id=registration.id,
        payload={"sequence": registration.invite_sequence(event), "position": position},
    )
    return BookingResult(
        registration=registration,
        event=event,
        manage_token=manage_token(registration, secret_key),
        created=True,
        waitlist_position=position,
    )


async def add_by_hand(
    session: AsyncSession,
    *,
    event_id: int,
    attendee: Attendee,
    secret_key: str,
    now: datetime | None = None,
) -> BookingResult:
    """An organiser books someone: a seat when one is free, else the next place in line, and
    the same mail as booking themselves. Unlike `book`, the registration window does not
    apply (someone turning up on the day can be added until the event ends).

    Raises EventNotFound, BookingClosed for an event cancelled, not published or over, and
    InvalidAttendee (on `email`) when the address already holds a seat or a place in line.
    """
    now = now or utcnow()
    event = await session.get(Event, event_id) if is_id(event_id) else None
    refuse_unless_seatable(event, now)
    await ensure_feed(session, attendee.email_normalised, secret_key)  # before the lock
    event = await lock_event(session, event_id)
    refuse_unless_seatable(event, now)
    assert event is not None
    existing = await session.scalar(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.email_normalised == attendee.email_normalised,
        )
    )
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        raise errors.InvalidAttendee({"email": errors.MSG_ALREADY_ON_LIST})
    return await _seat(session, event, attendee, existing, now=now, secret_key=secret_key)


async def book_series(
    session: AsyncSession,
    *,
    series_slug: str,
    attendee: Attendee,
    secret_key: str,
    now: datetime | None = None,
    tz_name: str = "Europe/Stockholm",
) -> SeriesBookingResult:
    """Book every upcoming published event of a series, waitlisted where full."""
    now = now or utcnow()
    series = await session.scalar(select(Series).where(Series.slug == series_slug))
    if series is None:
        raise SeriesNotFound()
    booked: list[BookingResult] = []
    bookable, skipped = await series_bookability(session, series.id, now, tz_name=tz_name)
    for event in bookable:
        try:
            booked.append(
                await book(
                    session,
                    event_id=event.id,
                    attendee=attendee,
                    secret_key=secret_key,
                    now=now,
                    tz_name=tz_name,
                )
            )
        except BookingClosed as exc:  # closed in the moment since it was checked
            skipped.append((event, exc))
    return SeriesBookingResult(booked=booked, skipped=skipped)


async def series_bookability(
    session: AsyncSession, series_id: int, now: datetime, *, tz_name: str = "Europe/Stockholm"
) -> tuple[list[Event], list[tuple[Event, BookingClosed]]]:
    """What booking the series at `now` books, and what it skips and why: the one answer
    the series page (whether to offer the form), book_series and its receipt all use."""
    events = await series_events_to_book(session, series_id, now)
    return split_bookable(events, now, tz_name=tz_name)


async def series_events_to_book(
    session: AsyncSession, series_id: int, now: datetime
) -> list[Event]:
    """The events a series booking tries: published, not yet begun, by start time and id.

    That order is also the order book_series locks them in, so two series bookings cannot
    deadlock. Some may still be closed for booking (see split_bookable).
    """
    rows = await session.scalars(
        select(Event)
        .where(
            Event.series_id == series_id,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(rows.all())


async def book_within_limits(
    services: Services, client: str, attendee: Attendee, *, event_id: int
) -> BookingResult:
    """`book` in a transaction of its own, within the booking limits for `client` (an
    address, see foundation.ratelimit) and the attendee's inbox. Raises TooManyBookings
    before anything is written, and what `book` raises."""

    async def booked() -> BookingResult:
        return await book_now(services, event_id=event_id, attendee=attendee)

    return await services.booking_limiter.around(client, attendee.email_normalised, booked)


async def book_now(services: Services, *, event_id: int, attendee: Attendee) -> BookingResult:
    """`book` in a transaction of its own, committed, and delivery nudged: a new booking by
    the hot path (registrations.seat_claims, a few statements on the driver), anything else
    (a repeat, a rebooking, a race with itself) by `book`. Raises what `book` raises."""
    settings = services.settings
    claimed = await claim_seat(
        services.hot_engine or services.engine,
        event_id=event_id,
        attendee=attendee,
        secret_key=settings.secret_key,
        now=utcnow(),
        tz_name=settings.timezone,
    )
    if claimed is not None:
        await services.committed(outbox_written=True)
        return BookingResult(
            registration=claimed.registration,
            event=claimed.event,
            manage_token=claimed.manage_token,
            created=True,
            waitlist_position=claimed.position,
        )
    async with services.transaction() as session:
        return await book(
            session,
            event_id=event_id,
            attendee=attendee,
            secret_key=settings.secret_key,
            tz_name=settings.timezone,
        )


async def cancel_now(services: Services, *, token: str) -> Registration:
    """`cancel` in a transaction of its own, committed, and delivery nudged: by the hot path
    (registrations.seat_releases, one transaction on the driver), or by `cancel` when that
    answers None. Raises what `cancel` raises."""
    released = await release_seat(services.hot_engine or services.engine, token=token, now=utcnow())
    if released is None:
        async with services.transaction() as session:
            return await cancel(session, token=token)
    if released.changed:
        # As mail.outbox.enqueue counts a promotion's invite once its transaction commits.
        metrics.PROMOTIONS.inc(len(released.promoted))
        await services.committed(outbox_written=True)
    return released.registration


async def book_series_within_limits(
    services: Services, client: str, attendee: Attendee, *, series_slug: str
) -> SeriesBookingResult:
    """`book_series` as `book_within_limits` books one event: one attempt, however many
    events the series holds."""

    async def booked() -> SeriesBookingResult:
        async with services.transaction() as session:
            return await book_series(
                session,
                series_slug=series_slug,
                attendee=attendee,
                secret_key=services.settings.secret_key,
                tz_name=services.settings.timezone,
            )

    return await services.booking_limiter.around(client, attendee.email_normalised, booked)


async def find_by_token(session: AsyncSession, token: str) -> Registration:
    """The registration a manage link points to, or RegistrationNotFound."""
    if not looks_like_token(token):
        raise errors.RegistrationNotFound()
    registration = await session.scalar(
        select(Registration).where(Registration.manage_token_hash == hash_token(token))
    )
    if registration is None:
        raise errors.RegistrationNotFound()
    return registration


async def cancel(session: AsyncSession, *, token: str, now: datetime | None = None) -> Registration:
    """Cancel from a manage link; a freed seat goes to the first on the waitlist at once."""
    found = await find_by_token(session, token)
    return await cancel_by_id(session, event_id=found.event_id, registration_id=found.id, now=now)


async def cancel_by_id(
    session: AsyncSession,
    *,
    event_id: int,
    registration_id: int,
    now: datetime | None = None,
    by_organiser: bool = False,
    note: str = "",
) -> Registration:
    """Cancel registration `registration_id` of event `event_id` as its manage link would:
    the person gets the cancellation mail, a freed seat goes to the first in line. Cancelling
    a cancelled one changes nothing. With `by_organiser` the mail says the organiser did it,
    with `note` (the organiser's reason, already cleaned; "" for none). Raises
    RegistrationNotFound when the event has no such registration."""
    now = now or utcnow()
    event = await lock_event(session, event_id)
    registration = (
        await session.scalar(
            select(Registration)
            .where(Registration.id == registration_id, Registration.event_id == event_id)
            .execution_options(populate_existing=True)
        )
        if event is not None and is_id(registration_id)
        else None
    )
    if event is None or registration is None:
        raise errors.RegistrationNotFound(errors.MSG_NOT_ON_LIST)
    if registration.status == RegistrationStatus.CANCELLED:
        return registration
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    if was_confirmed:
        event.confirmed_count -= 1
    else:
        event.waitlisted_count -= 1
    registration.status = RegistrationStatus.CANCELLED
    registration.waitlist_number = None
    registration.cancelled_at = now
    registration.updated_at = now
    registration.sequence_bump += 1
    await enqueue(
        session,
        kind=MessageKind.REGISTRATION_CANCELLED,
        recipient=registration.email,
        dedupe_key=dedupe_keys.cancelled(registration.id, registration.sequence_bump),
        event_id=event.id,
        registration_id=registration.id,
        payload={
            "sequence": registration.invite_sequence(event),
            "was_confirmed": was_confirmed,
            **({"by_organiser": True} if by_organiser else {}),
            **({"note": note} if note else {}),
        },
    )
    # Once the event has begun a freed seat is of no use: nobody is promoted into it.
    if was_confirmed and event.status == EventStatus.PUBLISHED and now < event.starts_at:
        await session.flush()
        await promote_from_waitlist(session, event)
    return registration


RESEND_QUIET = timedelta(minutes=5)  # after a booking, no resend of its link within this


async def _resend_link(
    session: AsyncSession, registration: Registration, event: Event, now: datetime, secret_key: str
) -> None:
    """Queue the booking's link to the address again, at most once an hour per inbox."""
    # Soon after the booking, its own mail is still on its way or has just arrived: a
    # double click or an impatient second try gets nothing more.
    if now - registration.updated_at < RESEND_QUIET:
        return
    # At most one resend an hour per inbox, whatever the events, series or spellings, so a
    # form hammered by someone who knows an address cannot flood that inbox. Keyed by a hash:
    # the dedupe key outlives retention's anonymising of the address.
    kind = (
        MessageKind.BOOKING_CONFIRMED
        if registration.status == RegistrationStatus.CONFIRMED
        else MessageKind.WAITLISTED
    )
    inbox = hmac.new(
        secret_key.encode(), inbox_of(registration.email_normalised).encode(), hashlib.sha256
    ).hexdigest()[:32]
    await enqueue(
        session,
        kind=kind,
        recipient=registration.email,
        dedupe_key=f"resend:{inbox}:{now:%Y%m%d%H}",
        event_id=registration.event_id,
        registration_id=registration.id,
        payload={
            "sequence": registration.invite_sequence(event),
            "position": await waitlist_position(session, registration),
            "resend": True,
        },
    )
