"""Composing the mail that tells a proposer what became of their proposal to the guide.

The row names the proposal (payload `proposal_id`, guide/proposals.py); the mail is written
from the proposal as it is at delivery, in the language the proposal was written in, and
its link opens the published example in that language. A proposal since deleted makes the
mail moot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.settings import Settings
from foundation.site_paths import url_in
from guide.catalogue import examples_by_ids
from guide.proposal_models import GuideProposal
from mail import headers
from mail.models import MessageKind, OutboxMessage
from notices.compose import _environment
from notices.signature import signature

KINDS = frozenset({MessageKind.PROPOSAL_APPROVED, MessageKind.PROPOSAL_REJECTED})


@dataclass(frozen=True)
class ProposalDraft:
    """A decision mail ready to render: its row, the proposal, and the example's slug (None
    for a rejection, or an example deleted since)."""

    row: OutboxMessage
    proposal: GuideProposal
    example_slug: str | None


async def load_drafts(
    session: AsyncSession, rows: Sequence[OutboxMessage], settings: Settings, now: datetime
) -> list[tuple[OutboxMessage, ProposalDraft | None, str | None]]:
    """For each decision-mail row its draft, or why it is moot; two queries for the batch."""
    wanted = {int(r.payload.get("proposal_id", 0)) for r in rows}
    found = {
        p.id: p
        for p in await session.scalars(select(GuideProposal).where(GuideProposal.id.in_(wanted)))
    }
    examples = await examples_by_ids(
        session, [p.example_id for p in found.values() if p.example_id is not None]
    )
    drafts: list[tuple[OutboxMessage, ProposalDraft | None, str | None]] = []
    for row in rows:
        proposal = found.get(int(row.payload.get("proposal_id", 0)))
        if proposal is None:
            drafts.append((row, None, "the proposal no longer exists"))
            continue
        example = examples.get(proposal.example_id) if proposal.example_id else None
        slug = example.slug if example is not None else None
        drafts.append((row, ProposalDraft(row, proposal, slug), None))
    return drafts


def render(draft: ProposalDraft, settings: Settings, now: datetime) -> EmailMessage:
    """The mail: text and HTML from templates/mail/<kind>.{subject.txt,txt,html}, in the
    language the proposal was written in."""
    row, proposal = draft.row, draft.proposal
    language = proposal.language
    base = settings.base_url
    context = {
        **signature(settings, language),
        "site_name": settings.site_name,
        "language": language,
        "name": proposal.contact_name,
        "title": proposal.title,
        "note": proposal.decision_note,
        "example_url": (
            url_in(language, base, "guide_example", slug=draft.example_slug)
            if draft.example_slug
            else url_in(language, base, "guide")
        ),
        "share_url": url_in(language, base, "guide_share"),
    }
    env = _environment(language)
    name = row.kind.value
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(context).split())
    message = EmailMessage(policy=headers.POLICY)
    message["Subject"] = headers.subject(subject)
    message["From"] = settings.mail_from
    message["To"] = headers.mailbox(proposal.contact_name, proposal.contact_email)
    message["Date"] = format_datetime(now)
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or settings.site_domain
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template(f"{name}.txt").render(context))
    message.add_alternative(env.get_template(f"{name}.html").render(context), subtype="html")
    headers.verify_headers(message)
    return message
