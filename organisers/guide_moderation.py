"""An organiser's decisions on proposals to the guide ('Dela med dig'), each logged in the
audit log: the rule is guide.proposals', the who and when is kept here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from guide import proposals
from guide.models import GuideExample
from guide.proposal_models import GuideProposal
from organisers import audit
from organisers.models import Organiser


async def approve_proposal(
    session: AsyncSession,
    organiser: Organiser,
    proposal_id: int,
    edit: proposals.ExampleEdit,
    *,
    note: str,
    smtputf8: bool,
    now: datetime,
) -> GuideExample:
    """guide.proposals.approve by `organiser`, logged as "proposal.approved" with the new
    example. Raises what it raises (ProposalNotFound, ProposalDecided, InvalidProposal)."""
    example = await proposals.approve(
        session, proposal_id, edit, note=note, smtputf8=smtputf8, now=now
    )
    await audit.record(
        session,
        organiser,
        "proposal.approved",
        f"proposal:{proposal_id}",
        now=now,
        example=example.id,
    )
    return example


async def reject_proposal(
    session: AsyncSession, organiser: Organiser, proposal_id: int, *, note: str, now: datetime
) -> GuideProposal:
    """guide.proposals.reject by `organiser`, logged as "proposal.rejected" (the note, which
    may name people, stays with the proposal, not in the log)."""
    proposal = await proposals.reject(session, proposal_id, note=note, now=now)
    await audit.record(session, organiser, "proposal.rejected", f"proposal:{proposal_id}", now=now)
    return proposal
