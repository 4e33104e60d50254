"""The rules of each notice to an attendee: who gets the join link, and when a mail is moot.

Content is composed at delivery from current data (notices/compose.py), so a message queued
earlier may no longer apply when its turn comes: a reminder for a seat given up, a change
told to someone in line who has since moved up. These rules belong to registrations, whose
state decides them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from events.models import Event, EventStatus
from mail.models import MessageKind, OutboxMessage
from registrations.models import Registration, RegistrationStatus

# Kinds whose mail may carry the join link: they go only to confirmed attendees.
WITH_JOIN_LINK = frozenset(
    {
        MessageKind.BOOKING_CONFIRMED,
        MessageKind.PROMOTED,
        MessageKind.REMINDER,
        MessageKind.EVENT_CHANGED,
        MessageKind.ORGANISER_MESSAGE,
    }
)


def gets_join_link(kind: MessageKind, registration: Registration) -> bool:
    """Whether a mail of `kind` to `registration` carries the join link: only to a confirmed
    seat, and only in the kinds that go to confirmed attendees."""
    return registration.status == RegistrationStatus.CONFIRMED and kind in WITH_JOIN_LINK


def moot_reason(
    row: OutboxMessage,
    event: Event,
    registration: Registration,
    now: datetime,
    *,
    reminder_grace: timedelta,
    feed_token_hash: str,
) -> str | None:
    """Why the queued `row` should not be sent at `now` (a reason for the log and the outbox
    row, in English, for operators), or None when it still applies.

    `reminder_grace` is how late a reminder may still go out; `feed_token_hash` is the
    address's personal feed's current token hash.
    """
    kind = row.kind
    status = registration.status
    if kind == MessageKind.EVENT_CHANGED and row.payload.get("waitlisted"):
        # A change told to someone in line: moot once they moved up (their invite has the
        # new details) or left, or the event was called off.
        if status != RegistrationStatus.WAITLISTED:
            return "no longer on the waitlist"
        if event.status == EventStatus.CANCELLED:
            return "the event was cancelled"
    elif kind in (
        MessageKind.BOOKING_CONFIRMED,
        MessageKind.PROMOTED,
        MessageKind.REMINDER,
        MessageKind.EVENT_CHANGED,
        MessageKind.FOLLOW_UP,
    ):
        if status != RegistrationStatus.CONFIRMED:
            return "the registration is no longer confirmed"
        if event.status == EventStatus.CANCELLED:
            return "the event was cancelled"
    if kind == MessageKind.WAITLISTED and status != RegistrationStatus.WAITLISTED:
        return "no longer on the waitlist"
    booked_as = row.dedupe_key.removeprefix("booked:").partition(":")[2]
    if row.dedupe_key.startswith("booked:") and booked_as != str(registration.sequence_bump):
        return "cancelled and booked again since; the newer confirmation counts"
    if kind == MessageKind.REGISTRATION_CANCELLED and status != RegistrationStatus.CANCELLED:
        # Booked again before this went out: the rebooking's invite carries the same SEQUENCE,
        # so a CANCEL arriving after it would take the event out of the attendee's calendar.
        return "booked again since"
    # A change notice still waiting here was not folded into a newer one (that one would
    # have skipped it, registrations.organising): it is still the person's to hear, even
    # when the event's SEQUENCE moved on with a change that did not concern them.
    if kind == MessageKind.REMINDER:
        planned_for = row.payload.get("starts_at")
        if planned_for is not None and planned_for != event.starts_at.isoformat():
            return "the event moved since this reminder was planned"
        due = event.starts_at - timedelta(minutes=int(row.payload.get("offset", 0)))
        if now >= event.starts_at or now - due > reminder_grace:
            return "too late to remind"
    if kind == MessageKind.ORGANISER_MESSAGE and status == RegistrationStatus.CANCELLED:
        return "the registration was cancelled"
    if row.kind == MessageKind.FEED_REPLACED and row.payload.get("token_hash") != feed_token_hash:
        # Composed from current data, each of two quick replacements would carry the newest
        # link; the newer row sends it once.
        return "the feed was replaced again since"
    return None
