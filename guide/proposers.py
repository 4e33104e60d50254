"""The people who proposed examples to the guide, found by address: what a person's own data
shows of their proposals, and their erasure on request (GDPR art. 15, 17).

Addresses are stored as typed, so they are compared by mail.addresses.canonical in Python;
the table holds a handful of proposals a month.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from guide.models import GuideExample
from guide.proposal_models import GuideProposal, ProposalStatus
from mail import addresses

ERASED = "(raderad)"


async def proposals_of(session: AsyncSession, email_normalised: str) -> list[GuideProposal]:
    """Every proposal whose contact address is `email_normalised` (canonical), oldest first."""
    rows = await session.scalars(select(GuideProposal).order_by(GuideProposal.id))
    return [p for p in rows.all() if addresses.canonical(p.contact_email) == email_normalised]


async def proposer_addresses(session: AsyncSession) -> set[str]:
    """The canonical address (mail.addresses.canonical) of everyone with a proposal kept."""
    rows = await session.scalars(select(GuideProposal.contact_email))
    return {addresses.canonical(email) for email in rows.all() if email != ERASED}


async def erase_proposer(session: AsyncSession, email_normalised: str) -> int:
    """Erase the person at `email_normalised` from the proposals: one not approved is deleted
    whole (it is theirs alone); an approved one keeps its text, which lives on as a published
    example, without their name or address, and so does that example (and any other example
    naming them as its contact): its contact card goes. Returns how many proposals were
    touched."""
    found = await proposals_of(session, email_normalised)
    waiting = [p.id for p in found if p.status != ProposalStatus.APPROVED]
    if waiting:
        await session.execute(delete(GuideProposal).where(GuideProposal.id.in_(waiting)))
    theirs = {p.example_id: p.contact_name for p in found if p.example_id is not None}
    for proposal in found:
        if proposal.status == ProposalStatus.APPROVED:
            proposal.contact_name = ERASED
            proposal.contact_email = ERASED
    # The published page shows its contact's name, address and phone to anyone. Through the
    # ORM, so the search index (guide.search, on flush) forgets them too.
    for example in (await session.scalars(select(GuideExample))).all():
        named = theirs.get(example.id) == example.contact_name and example.contact_name != ""
        if named or addresses.canonical(example.contact_email) == email_normalised:
            example.contact_name = ""
            example.contact_role = ""
            example.contact_email = ""
            example.contact_phone = ""
    return len(found)
