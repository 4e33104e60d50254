"""What the proposal tests share ('Dela med dig'): the form and API addresses, a filled-in
form, sending it and reading what is stored. Used by tests/guide/test_proposals.py and
tests/guide/test_proposal_role_phone.py."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from foundation.services import Services
from guide.proposal_models import GuideProposal
from tests.factories import csrf_of

SHARE = "/guide/share"
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
