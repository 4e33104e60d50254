"""Erasing what is kept past its time, every minute in the worker's sweep: the privacy
notice's promises kept without anyone remembering to.

- Registrations: anonymised RETENTION_DAYS after their event (registrations.retention), and
  those erased on request once their last mail has gone (registrations.erasure).
- Outbox rows: the recipient, payload and last error of settled mail forgotten after
  OUTBOX_RETENTION_DAYS (mail.outbox.purge_settled); the rows stay as counts.
- Audit entries: deleted after AUDIT_RETENTION_DAYS (organisers.audit.purge_before).
- Proposals to the guide ('Dela med dig'): deleted RETENTION_DAYS after their decision
  (guide.proposals.purge_decided); an approved one lives on as its example. One nobody
  decided is deleted PROPOSAL_RETENTION_DAYS after it was sent (purge_undecided).

Each purge is one `INFO` line of counts (logger `lunchkafe.workers`), never whose data.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from foundation.services import Services
from guide.proposals import purge_decided, purge_undecided
from mail.outbox import purge_settled
from organisers.audit import purge_before
from registrations.erasure import finish_erasures
from registrations.retention import anonymise_past_registrations

log = logging.getLogger("lunchkafe.workers")


@dataclass(frozen=True)
class Purged:
    """How many of each kind one run erased."""

    registrations: int = 0
    erasures_finished: int = 0
    outbox_rows: int = 0
    audit_entries: int = 0
    proposals: int = 0
    undecided_proposals: int = 0


async def purge_expired(services: Services, *, now: datetime) -> Purged:
    """Run every retention rule at `now`, in one transaction; log and return the counts."""
    settings = services.settings
    async with services.transaction() as session:
        purged = Purged(
            registrations=await anonymise_past_registrations(
                session, now=now, retention=timedelta(days=settings.retention_days)
            ),
            erasures_finished=await finish_erasures(session, now=now),
            outbox_rows=await purge_settled(
                session, before=now - timedelta(days=settings.outbox_retention_days)
            ),
            audit_entries=await purge_before(
                session, now - timedelta(days=settings.audit_retention_days)
            ),
            proposals=await purge_decided(
                session, before=now - timedelta(days=settings.retention_days)
            ),
            undecided_proposals=await purge_undecided(
                session, before=now - timedelta(days=settings.proposal_retention_days)
            ),
        )
    for what, count in asdict(purged).items():
        if count:
            log.info("retention: %s purged: %d", what, count)
    return purged
