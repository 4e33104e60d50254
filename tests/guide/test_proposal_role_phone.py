"""A proposal can give its contact's role and phone number (optional), by the form and by the
API; an approved proposal's example shows them, as /privacy and the consent text say."""

from __future__ import annotations

import httpx

from foundation.services import Services
from tests.guide_proposals import API, FORM, JSON, KOMMUN, ORGANISER_API, share, stored
from tests.signing_in import add, bearer, text_of, token_for


async def test_role_and_phone_go_from_the_form_to_the_published_example(
    services: Services, client: httpx.AsyncClient
) -> None:
    form = (await client.get("/guide/share")).text
    assert 'name="contact_role"' in form
    assert 'name="contact_phone"' in form
    assert "roll och telefonnummer om du anger dem" in form
    sent = await share(client, contact_role="Landsbygdsutvecklare", contact_phone="0612-123 45")
    assert sent.status_code == 303, sent.text
    (proposal,) = await stored(services)
    assert (proposal.contact_role, proposal.contact_phone) == (
        "Landsbygdsutvecklare",
        "0612-123 45",
    )
    token = await token_for(services, await add(services, "anna@myndigheten.example.se"))
    approved = await client.post(
        f"{ORGANISER_API}/{proposal.id}/approve", json=KOMMUN, headers=bearer(token)
    )
    assert approved.status_code == 200, approved.text
    page = text_of(await client.get(approved.json()["url"].removeprefix("http://testserver")))
    assert "Landsbygdsutvecklare" in page
    assert "0612-123 45" in page
    assert FORM["contact_name"] in page


async def test_the_api_takes_role_and_phone_and_refuses_a_phone_without_digits(
    services: Services, client: httpx.AsyncClient
) -> None:
    bad = await client.post(API, json={**JSON, "contact_phone": "ring mig"})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"contact_phone"}
    assert await stored(services) == []
    good = await client.post(
        API, json={**JSON, "contact_role": "Processledare", "contact_phone": "+46 8 123 45 67"}
    )
    assert good.status_code == 202, good.text
    (proposal,) = await stored(services)
    assert (proposal.contact_role, proposal.contact_phone) == ("Processledare", "+46 8 123 45 67")
    # Without them, as before: empty.
    assert (await client.post(API, json=JSON)).status_code == 202
    assert (await stored(services))[-1].contact_role == ""
