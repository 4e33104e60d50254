"""Erasing a person who shared an example that was published (GDPR art. 17): the example's
text stays in the guide, but its page no longer names them or gives their address."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from guide.models import GuideExample
from guide.proposals import ExampleEdit, approve
from registrations.erasure import erase_person
from tests.guide_proposals import vera_proposes


async def test_an_erased_proposer_is_no_longer_the_published_examples_contact(
    services: Services, client: httpx.AsyncClient
) -> None:
    proposal = await vera_proposes(services, "Vera.Delare@Example.org")
    async with services.transaction() as session:
        await approve(
            session,
            proposal.id,
            ExampleEdit(slug="bredband-i-byarna", organisation_type="kommun"),
            note="",
            smtputf8=False,
            now=utcnow(),
        )
    published = await client.get("/guide/bredband-i-byarna")
    assert "Vera Delare" in published.text  # the contact, as approved

    async with services.transaction() as session:
        await erase_person(session, "vera.delare@example.org", now=utcnow())

    page = await client.get("/guide/bredband-i-byarna")
    assert page.status_code == 200
    assert "Bredband i byarna" in page.text  # the example lives on
    assert "Vera Delare" not in page.text
    assert "vera.delare@example.org" not in page.text.lower()
    async with services.reading() as session:
        (example,) = (await session.scalars(select(GuideExample))).all()
    held = f"{example.contact_name}|{example.contact_email}|{example.contact_phone}"
    assert "vera" not in held.lower(), held
