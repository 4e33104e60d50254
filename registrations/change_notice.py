"""What a change notice says changed: the event as the person knew it, and as it is now.

Both are captured when the change is made, in its transaction (registrations.organising), and
carried in the outbox row's payload: a mail composed later, by a worker that reads the event
as it is then, never takes the new values for the old ones. Only what a person sees of the
event in a mail or a calendar is kept: the time, the title, the place, and the join link,
which is kept only for the confirmed (nobody in line ever sees it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.models import Event

# What a person sees of an event, and so what a change notice compares.
SEEN = ("title", "starts_at", "ends_at", "venue", "join_url")
TIMES = ("starts_at", "ends_at")


def seen_of(event: Event, *, join_link: bool) -> dict[str, str | None]:
    """The event's SEEN fields as JSON values (instants in ISO 8601, in UTC, so one instant
    is always one string); without the join link unless `join_link`."""
    seen: dict[str, str | None] = {}
    for name in SEEN:
        if name == "join_url" and not join_link:
            continue
        value = getattr(event, name)
        seen[name] = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
    return seen


def told(
    was: Mapping[str, Any], now: Mapping[str, Any], earlier: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The payload members of a change notice: what the person knew (`was`) and what is now.

    `earlier` is the payload of this person's notice of an earlier change that has not gone
    out yet (it will be skipped as superseded): the person never heard of that change, so
    what they knew is that notice's `was`, for the fields it holds.
    """
    known = dict(was)
    if earlier and isinstance(earlier.get("was"), dict):
        known.update({k: v for k, v in earlier["was"].items() if k in known})
    return {"was": known, "now": dict(now)}


@dataclass(frozen=True)
class Change:
    """One thing that changed. `what` is "time" (values are (starts, ends) pairs of aware
    datetimes), "title", "venue" or "join_url" (text, None for none)."""

    what: str
    old: Any
    new: Any


def what_changed(payload: Mapping[str, Any]) -> list[Change]:
    """The changes a change notice's payload holds, in the order a mail states them: the
    time, the title, the place, the join link. Empty for a notice queued before notices
    said what changed."""
    was, now = payload.get("was"), payload.get("now")
    if not isinstance(was, dict) or not isinstance(now, dict):
        return []
    found: list[Change] = []
    if all(name in was and name in now for name in TIMES) and any(
        was[name] != now[name] for name in TIMES
    ):
        found.append(
            Change(
                "time",
                tuple(datetime.fromisoformat(was[name]) for name in TIMES),
                tuple(datetime.fromisoformat(now[name]) for name in TIMES),
            )
        )
    for name in ("title", "venue", "join_url"):
        if name in was and name in now and was[name] != now[name]:
            found.append(Change(name, was[name], now[name]))
    return found
