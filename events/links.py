"""Add-to-calendar and subscribe links for pages and mails."""

from __future__ import annotations

from collections.abc import Callable

from events.calendar import (
    feed_subscribe_links,
    google_calendar_link,
    outlook_calendar_link,
)
from events.entries import public_entry
from events.models import Event
from foundation.site_paths import url


def event_calendar_links(event: Event, base_url: str) -> dict[str, str]:
    """.ics download, Google and Outlook for one event; public details only."""
    event_url = url(base_url, "event", event_id=event.id)
    entry = public_entry(event, event_url=event_url)
    details = f"{event.summary}\n\n{event_url}".strip()
    return {
        "ics": url(base_url, "event_ics", event_id=event.id),
        "google": google_calendar_link(entry, details),
        "outlook": outlook_calendar_link(entry, details),
    }


def subscribe_links(feed_url: str, name: str) -> dict[str, str]:
    """The feed itself plus webcal, Google and Outlook subscribe links."""
    return {"feed": feed_url, **feed_subscribe_links(feed_url, name)}


def for_pages(base_url: str) -> dict[str, Callable[..., dict[str, str]]]:
    """The link builders templates call, bound to BASE_URL: `calendar_links(event)` and
    `subscribe_links(route_name, name, **params)` (a feed's route in foundation.site_paths,
    the calendar's name). Handlers put them in the context of the pages that offer adding
    to a calendar or subscribing (the event, home, series and feed pages)."""
    return {
        "calendar_links": lambda event: event_calendar_links(event, base_url),
        "subscribe_links": lambda route, name, **params: subscribe_links(
            url(base_url, route, **params), name
        ),
    }
