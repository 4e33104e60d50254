"""An admin erases, on request, someone who shared an example with the guide but never
booked: the workspace shows their proposal and erases it, rather than saying it holds
nothing about them."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from foundation.services import Services
from guide.proposal_models import GuideProposal
from tests.factories import csrf_in
from tests.guide_proposals import vera_proposes
from tests.signing_in import add, sign_in, text_of


async def test_an_admin_sees_and_erases_a_proposer_who_never_booked(
    services: Services, client: httpx.AsyncClient
) -> None:
    await vera_proposes(services)
    await add(services, "boss@myndigheten.example.se", role="admin")
    await sign_in(client, "boss@myndigheten.example.se")
    token = csrf_in((await client.get("/organiser/erase")).text)
    email = "Vera.Delare@example.org"

    shown = await client.post("/organiser/erase", data={"csrf_token": token, "email": email})
    assert "Det finns inga uppgifter" not in text_of(shown)
    assert "har skickat 1 förslag till guiden" in text_of(shown)
    done = await client.post(
        "/organiser/erase", data={"csrf_token": token, "email": email, "confirm": "yes"}
    )
    assert done.status_code == 200
    assert "Personen togs bort från 1 förslag till guiden." in text_of(done)
    async with services.reading() as session:
        assert (await session.scalars(select(GuideProposal))).all() == []
