"""What the proposal tests share ('Dela med dig'): the form and API addresses, a filled-in
form, sending it, reading what is stored, and a proposal stored directly (vera_proposes).
Used by tests/guide/test_proposals.py, tests/guide/test_proposal_role_phone.py and the tests
that need one undecided proposal from someone who never booked."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from guide.proposal_models import GuideProposal
from guide.proposals import ProposalDraft, submit
from tests.factories import csrf_of

SHARE = "/guide/share"
VERA = "vera.delare@example.org"  # vera_proposes's contact address
API = "/api/v1/guide/proposals"
ORGANISER_API = "/api/v1/organiser/guide/proposals"

FORM = {
    "title": "Strukturbild för landsbygdsutveckling",
    "organisation": "Exempelkommun",
    "summary": "Vi ritade en strukturbild\ntillsammans med byarna.",
    "body": "- Möten i byarna\n- En karta",
    "contact_name": "Åsa Öberg",
    "contact_email": "asa.oberg@kommun.example.se",
    "consent": "yes",
}
KOMMUN = {"organisation_type": "kommun"}
JSON = {**FORM, "consent": True, "title": "Lokalt ledd utveckling", "language": "en"}


async def share(client: httpx.AsyncClient, lang: str = "sv", **changes: str) -> httpx.Response:
    token = await csrf_of(client, f"{SHARE}?lang={lang}")
    return await client.post(SHARE, data={**FORM, **changes, "csrf_token": token})


async def stored(services: Services) -> list[GuideProposal]:
    async with services.transaction() as session:
        return list((await session.scalars(select(GuideProposal).order_by(GuideProposal.id))).all())


async def vera_proposes(services: Services, email: str = VERA) -> GuideProposal:
    """Vera Delare (`email`, VERA unless given), who never booked, submits a proposal to
    the guide in a transaction of its own; it stays pending. Returns the stored proposal
    (detached)."""
    async with services.transaction() as session:
        return await submit(
            session,
            ProposalDraft(
                title="Bredband i byarna",
                organisation="Exempelkommun",
                summary="Så gjorde vi.",
                body="",
                contact_name="Vera Delare",
                contact_email=email,
                language="sv",
            ),
            utcnow(),
        )
