"""The organiser's review of a proposal to the guide shows the contact's role and phone number,
which approving publishes, and lets the organiser correct them like the other contact fields:
the published example shows the corrected values."""

from __future__ import annotations

import httpx

from foundation.services import Services
from tests.factories import csrf_in
from tests.guide_proposals import FORM, share, stored
from tests.signing_in import signed_in_client, text_of

ROLE, PHONE = "Landsbygdsutvecklare", "0612-123 45"


def approval(csrf_token: str, **changes: str) -> dict[str, str]:
    """The review page's approve form as an organiser fills it in, with `changes`."""
    return {
        "csrf_token": csrf_token,
        "slug": "strukturbild-kontakt",
        "title": FORM["title"],
        "organisation": FORM["organisation"],
        "organisation_type": "kommun",
        "region": "",
        "summary": FORM["summary"],
        "body": FORM["body"],
        "contact_name": FORM["contact_name"],
        "contact_email": FORM["contact_email"],
        "contact_role": ROLE,
        "contact_phone": PHONE,
        "note": "",
        **changes,
    }


async def test_the_review_shows_role_and_phone_and_publishes_the_corrected_ones(
    services: Services, client: httpx.AsyncClient
) -> None:
    assert (await share(client, contact_role=ROLE, contact_phone=PHONE)).status_code == 303
    (proposal,) = await stored(services)
    review = f"/organiser/guide/proposals/{proposal.id}"
    async with signed_in_client(services) as organiser:
        page = await organiser.get(review)
        assert page.status_code == 200
        shown = text_of(page)
        assert ROLE in shown
        assert PHONE in shown
        assert 'name="contact_role"' in page.text
        assert 'name="contact_phone"' in page.text

        # A phone number without digits is refused at its field; what was typed stays.
        refused = await organiser.post(
            f"{review}/approve",
            data=approval(csrf_in(page.text), contact_role="Processledare", contact_phone="ring"),
        )
        assert refused.status_code == 422
        assert 'id="error-contact_phone"' in refused.text
        assert 'value="Processledare"' in refused.text
        assert (await client.get("/guide/strukturbild-kontakt")).status_code == 404

        approved = await organiser.post(
            f"{review}/approve",
            data=approval(
                csrf_in(page.text), contact_role="Processledare", contact_phone="0612-999 00"
            ),
        )
        assert approved.status_code == 303, approved.text

    published = text_of(await client.get("/guide/strukturbild-kontakt"))
    assert FORM["contact_name"] in published
    assert "Processledare" in published
    assert "0612-999 00" in published
    assert ROLE not in published
    assert PHONE not in published


async def test_an_organiser_can_leave_out_the_phone_before_it_is_published(
    services: Services, client: httpx.AsyncClient
) -> None:
    assert (await share(client, contact_role=ROLE, contact_phone=PHONE)).status_code == 303
    (proposal,) = await stored(services)
    review = f"/organiser/guide/proposals/{proposal.id}"
    async with signed_in_client(services) as organiser:
        page = await organiser.get(review)
        approved = await organiser.post(
            f"{review}/approve", data=approval(csrf_in(page.text), contact_phone="")
        )
        assert approved.status_code == 303, approved.text
    published = text_of(await client.get("/guide/strukturbild-kontakt"))
    assert ROLE in published
    assert PHONE not in published
