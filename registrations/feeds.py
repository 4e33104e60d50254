"""Each attendee's personal feed: exactly their own confirmed bookings, behind a token.

The token (256 bits) is derived from a nonce with the secret key and stored only as a
hash, like the manage token; revoking gives a new nonce, so the old URL answers 404.
The feed spans every booking of an address, so its link only ever travels by mail to that
address: never in a page or API answer that someone who merely knows the address can reach.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.calendar import build_feed
from events.entries import attendee_entry
from events.feeds import PAST_KEPT, last_modified
from events.models import Event, EventStatus
from foundation.conditional import CalendarFile
from foundation.database import conflict_insert
from foundation.site_paths import url
from foundation.timestamps import utcnow
from mail.models import MessageKind
from mail.outbox import enqueue
from registrations.errors import FeedNotFound
from registrations.models import AttendeeFeed, Registration, RegistrationStatus
from registrations.tokens import derive_token, hash_token, looks_like_token, new_nonce

PURPOSE = "feed"


def feed_token(feed: AttendeeFeed, secret_key: str) -> str:
    return derive_token(secret_key, feed.token_nonce, PURPOSE)


async def ensure_feed(session: AsyncSession, email_normalised: str, secret_key: str) -> None:
    """Create the person's feed unless it exists; one statement, safe under concurrency."""
    nonce = new_nonce()
    values = {
        "email_normalised": email_normalised,
        "token_nonce": nonce,
        "token_hash": hash_token(derive_token(secret_key, nonce, PURPOSE)),
        "created_at": utcnow(),
    }
    # ON CONFLICT DO NOTHING: two first bookings by one person at once must not collide.
    await session.execute(
        conflict_insert(session, AttendeeFeed)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["email_normalised"])
    )


async def feed_for(session: AsyncSession, email_normalised: str, secret_key: str) -> AttendeeFeed:
    """The person's feed, created on first need; concurrent callers get the same row."""
    await ensure_feed(session, email_normalised, secret_key)
    feed = (
        await session.scalars(
            select(AttendeeFeed)
            .where(AttendeeFeed.email_normalised == email_normalised)
            .execution_options(populate_existing=True)
        )
    ).first()
    assert feed is not None
    return feed


async def feeds_for_emails(
    session: AsyncSession, emails: set[str], secret_key: str
) -> dict[str, AttendeeFeed]:
    """Feeds for many people at once (mail batches), creating any that are missing."""
    found = {
        feed.email_normalised: feed
        for feed in (
            await session.scalars(
                select(AttendeeFeed).where(AttendeeFeed.email_normalised.in_(emails))
            )
        ).all()
    }
    missing = sorted(emails - set(found))
    if not missing:
        return found
    # The missing ones in one INSERT per chunk (a fan-out to people who booked before feeds
    # existed), then read back: a concurrent creator's row wins, as in ensure_feed.
    now = utcnow()
    for start in range(0, len(missing), 200):  # 4 values a row: under SQLite's variable limit
        values = []
        for email in missing[start : start + 200]:
            nonce = new_nonce()
            values.append(
                {
                    "email_normalised": email,
                    "token_nonce": nonce,
                    "token_hash": hash_token(derive_token(secret_key, nonce, PURPOSE)),
                    "created_at": now,
                }
            )
        await session.execute(
            conflict_insert(session, AttendeeFeed)
            .values(values)
            .on_conflict_do_nothing(index_elements=["email_normalised"])
        )
    created = await session.scalars(
        select(AttendeeFeed)
        .where(AttendeeFeed.email_normalised.in_(missing))
        .execution_options(populate_existing=True)
    )
    found.update((feed.email_normalised, feed) for feed in created.all())
    return found


async def find_feed(session: AsyncSession, token: str) -> AttendeeFeed:
    if not looks_like_token(token):
        raise FeedNotFound()
    feed = (
        await session.scalars(
            select(AttendeeFeed).where(AttendeeFeed.token_hash == hash_token(token))
        )
    ).first()
    if feed is None:
        raise FeedNotFound()
    return feed


async def replace_feed_address(session: AsyncSession, token: str, secret_key: str) -> None:
    """Give the feed behind `token` a new token and mail the new link to the address.

    The old URL answers 404 at once. The new token is returned to nobody: whoever pressed
    the button may be the one the old link leaked to. Raises FeedNotFound for an
    unknown or already replaced token.
    """
    feed = await find_feed(session, token)
    feed.token_nonce = new_nonce()
    feed.token_hash = hash_token(derive_token(secret_key, feed.token_nonce, PURPOSE))
    feed.revoked_at = utcnow()
    # The address as the person last typed it, and a registration to hang the row on, so
    # retention forgets the recipient together with the bookings.
    latest = (
        await session.scalars(
            select(Registration)
            .where(Registration.email_normalised == feed.email_normalised)
            .order_by(Registration.created_at.desc(), Registration.id.desc())
            .limit(1)
        )
    ).first()
    if latest is None:  # no booking left to mail about: the feed is gone with them
        return
    await enqueue(
        session,
        kind=MessageKind.FEED_REPLACED,
        recipient=latest.email,
        # The hash is already stored beside the feed; it tells two replacements apart.
        dedupe_key=f"feed-replaced:{feed.id}:{feed.token_hash}",
        event_id=latest.event_id,
        registration_id=latest.id,
        payload={"token_hash": feed.token_hash},
    )


async def confirmed_bookings(
    session: AsyncSession, feed: AttendeeFeed, *, since: datetime
) -> list[Registration]:
    """The person's confirmed seats at published events that have not long ended."""
    rows = await session.scalars(
        select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .options(selectinload(Registration.event))
        .where(
            Registration.email_normalised == feed.email_normalised,
            Registration.status == RegistrationStatus.CONFIRMED,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > since,
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(rows.all())


async def latest_change(session: AsyncSession, feed: AttendeeFeed) -> datetime | None:
    """The last change to any of the person's bookings or to their events, whether still in
    the feed or not: a booking leaving the feed is a change too, so Last-Modified never
    goes back and a client revalidating by date alone still sees it leave."""
    registration, event = (
        await session.execute(
            select(func.max(Registration.updated_at), func.max(Event.updated_at))
            .join(Event, Event.id == Registration.event_id)
            .where(Registration.email_normalised == feed.email_normalised)
        )
    ).one()
    return max((stamp for stamp in (registration, event) if stamp is not None), default=None)


async def last_aged_out(
    session: AsyncSession, feed: AttendeeFeed, *, now: datetime
) -> datetime | None:
    """The latest end among the person's confirmed seats at published events that has left
    the feed by time alone (PAST_KEPT ago by `now`): no row records that moment."""
    return await session.scalar(
        select(func.max(Event.ends_at))
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Registration.email_normalised == feed.email_normalised,
            Registration.status == RegistrationStatus.CONFIRMED,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at <= now - PAST_KEPT,
        )
    )


async def personal_feed_file(
    session: AsyncSession, token: str, *, base_url: str, name: str, now: datetime | None = None
) -> CalendarFile:
    """The personal feed behind `token` as a calendar file (RFC 5545): every confirmed seat
    of the address at a published event not over for PAST_KEPT, with join links and
    without manage links, since a feed gets shared, synced and forwarded, and a manage link
    cancels. Last-Modified (events.feeds.last_modified) is the latest change to any booking
    of the address or its event, or the last moment a seat aged out of the feed.
    Raises FeedNotFound for an unknown or replaced token."""
    now = now or utcnow()
    feed = await find_feed(session, token)
    bookings = await confirmed_bookings(session, feed, since=now - PAST_KEPT)
    modified = last_modified(
        [await latest_change(session, feed)],
        last_ended=await last_aged_out(session, feed, now=now),
    )
    entries = [
        attendee_entry(
            r.event,
            event_url=url(base_url, "event", event_id=r.event_id),
            sequence=r.invite_sequence(r.event),
            language=r.language,  # each booking's own, as its invite said
        )
        for r in bookings
    ]
    return CalendarFile.of(build_feed(entries, name=name), modified)
