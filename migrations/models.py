"""Every package's models, imported so that the metadata (and so Alembic and the tests) sees
every table."""

from events.models import Event, Series
from foundation.database import Base
from guide.models import Challenge, EventGuideLink, GuideExample
from guide.proposal_models import GuideProposal
from mail.models import OrganiserSend, OutboxMessage
from organisers.models import AccessToken, AccountLink, AuditEntry, Organiser, OrganiserSession
from registrations.models import AttendeeFeed, Registration

__all__ = [
    "AccessToken",
    "AccountLink",
    "AttendeeFeed",
    "AuditEntry",
    "Base",
    "Challenge",
    "Event",
    "EventGuideLink",
    "GuideExample",
    "GuideProposal",
    "Organiser",
    "OrganiserSend",
    "OrganiserSession",
    "OutboxMessage",
    "Registration",
    "Series",
]
