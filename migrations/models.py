"""Every package's models, imported so that the metadata (and so Alembic and the tests) sees
every table."""

from events.models import Event, Series
from foundation.database import Base
from guide.models import Challenge, EventGuideLink, GuideExample
from mail.models import OrganiserSend, OutboxMessage
from registrations.models import AttendeeFeed, Registration

__all__ = [
    "AttendeeFeed",
    "Base",
    "Challenge",
    "Event",
    "EventGuideLink",
    "GuideExample",
    "OrganiserSend",
    "OutboxMessage",
    "Registration",
    "Series",
]
