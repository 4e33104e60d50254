"""'Dela med dig': a proposal sent through the form or the API stays out of the guide until an
organiser approves it (edited into an example) or rejects it with a note; the proposer is
mailed either way, through a real SMTP server, in the language they wrote in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from foundation.services import Services
from foundation.timestamps import utcnow
from guide import proposals
from guide.proposal_models import ProposalStatus
from lunchkafe.app import create_app
from organisers.models import AuditEntry
from tests.conftest import Mail
from tests.factories import csrf_in
from tests.guide_proposals import API, FORM, JSON, KOMMUN, ORGANISER_API, SHARE, share, stored
from tests.signing_in import add, bearer, sign_in, text_of, token_for
from workers.retention import Purged, purge_expired


def new_client(services: Services) -> httpx.AsyncClient:
    app = create_app(services.settings, services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def web(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(mail.services) as client:
        yield client


def text_part(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


async def test_a_proposal_is_public_only_once_approved_and_its_author_is_told(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    services = mail.services
    sent = await share(web)
    assert sent.status_code == 303
    receipt = await web.get(sent.headers["location"])
    assert "Tack för ditt förslag" in text_of(receipt)
    (proposal,) = await stored(services)
    assert proposal.status is ProposalStatus.PENDING
    assert proposal.language == "sv"
    assert proposal.consented_at is not None
    assert proposal.summary == FORM["summary"]  # line breaks kept

    # Not public: neither the guide nor the address the example would get knows it.
    assert FORM["title"] not in text_of(await web.get("/guide"))
    assert (await web.get("/guide/strukturbild-for-landsbygdsutveckling")).status_code == 404

    await add(services, "anna@myndigheten.example.se")
    async with new_client(services) as organiser:
        assert (await sign_in(organiser, "anna@myndigheten.example.se")).status_code == 303
        listed = await organiser.get("/organiser/guide/proposals")
        assert FORM["title"] in text_of(listed)
        page = await organiser.get(f"/organiser/guide/proposals/{proposal.id}")
        assert "Redigera och godkänn" in text_of(page)
        approved = await organiser.post(
            f"/organiser/guide/proposals/{proposal.id}/approve",
            data={
                "csrf_token": csrf_in(page.text),
                "slug": "strukturbild-sormland",
                "title": "Strukturbild i Sörmland",
                "organisation": FORM["organisation"],
                "organisation_type": "region",
                "region": "Södermanlands län",
                "summary": "En strukturbild för landsbygden.",
                "body": FORM["body"],
                "contact_name": FORM["contact_name"],
                "contact_email": FORM["contact_email"],
                "note": "Tack, vi kortade texten lite.",
            },
        )
        assert approved.status_code == 303
        assert "publicerat" in text_of(await organiser.get(approved.headers["location"]))

    example = await web.get("/guide/strukturbild-sormland")
    assert example.status_code == 200
    assert "Strukturbild i Sörmland" in text_of(example)
    assert "Strukturbild i Sörmland" in text_of(await web.get("/guide"))

    await mail.deliver()
    told = mail.only(FORM["contact_email"])
    assert (
        told["Subject"]
        == "Ditt exempel finns nu i utvecklingsguiden: Strukturbild för landsbygdsutveckling"
    )
    text = text_part(told)
    assert "Hej Åsa Öberg!" in text
    assert "http://testserver/guide/strukturbild-sormland?lang=sv" in text
    assert "Tack, vi kortade texten lite." in text

    async with services.transaction() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "proposal.approved" in actions


async def test_a_proposal_by_api_in_english_is_rejected_with_a_note_in_english(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    services = mail.services
    answer = await web.post(API, json=JSON)
    assert answer.status_code == 202, answer.text
    (proposal,) = await stored(services)
    assert proposal.language == "en"

    organiser = await add(services, "anna@myndigheten.example.se")
    token = await token_for(services, organiser)
    path = f"{ORGANISER_API}/{proposal.id}/reject"
    empty = await web.post(path, json={"note": " "}, headers=bearer(token))
    assert empty.status_code == 422
    assert empty.json()["fields"] == {
        "note": "Skriv varför förslaget inte tas med, så att den som skickade det får veta."
    }
    assert (await web.post(path, json={"note": "Vi har redan ett liknande."})).status_code == 401
    rejected = await web.post(
        path, json={"note": "Vi har redan ett liknande."}, headers=bearer(token)
    )
    assert rejected.status_code == 200
    assert rejected.json() == {"status": "rejected"}
    again = await web.post(
        f"{ORGANISER_API}/{proposal.id}/approve", json=KOMMUN, headers=bearer(token)
    )
    assert again.status_code == 409

    await mail.deliver()
    told = mail.only(FORM["contact_email"])
    assert (
        told["Subject"] == "About your proposal for the Development Guide: Lokalt ledd utveckling"
    )
    text = text_part(told)
    assert "Vi har redan ett liknande." in text
    assert "http://testserver/guide/share?lang=en" in text
    assert "Lokalt ledd utveckling" not in text_of(await web.get("/guide"))


async def test_approving_by_api_publishes_with_the_proposals_own_text(
    services: Services, client: httpx.AsyncClient
) -> None:
    assert (await client.post(API, json=JSON)).status_code == 202
    (proposal,) = await stored(services)
    token = await token_for(services, await add(services, "anna@myndigheten.example.se"))
    approved = await client.post(
        f"{ORGANISER_API}/{proposal.id}/approve", json=KOMMUN, headers=bearer(token)
    )
    assert approved.status_code == 200, approved.text
    assert approved.json() == {
        "status": "approved",
        "slug": "lokalt-ledd-utveckling",
        "url": "http://testserver/guide/lokalt-ledd-utveckling",
    }
    page = await client.get("/guide/lokalt-ledd-utveckling")
    assert "Lokalt ledd utveckling" in text_of(page)
    # A second proposal with the same title cannot take the address.
    assert (await client.post(API, json=JSON)).status_code == 202
    second = (await stored(services))[-1]
    taken = await client.post(
        f"{ORGANISER_API}/{second.id}/approve", json=KOMMUN, headers=bearer(token)
    )
    assert taken.status_code == 422
    assert set(taken.json()["fields"]) == {"slug"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**JSON, "consent": False}, {"consent"}),
        ({k: v for k, v in JSON.items() if k != "consent"}, {"consent"}),
        ({**JSON, "title": 5, "contact_email": "inte en adress"}, {"title", "contact_email"}),
        ({**JSON, "summary": "", "contact_name": "https://x.example"}, {"summary", "contact_name"}),
        ({**JSON, "language": "de"}, {"language"}),
    ],
)
async def test_bad_json_is_refused_field_by_field_and_nothing_is_kept(
    services: Services, client: httpx.AsyncClient, body: dict[str, Any], fields: set[str]
) -> None:
    answer = await client.post(API, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert set(answer.json()["fields"]) == fields
    assert await stored(services) == []


async def test_the_api_refuses_what_is_not_a_json_object(
    services: Services, client: httpx.AsyncClient
) -> None:
    assert (
        await client.post(API, content=b"{", headers={"content-type": "application/json"})
    ).status_code == 400
    assert (await client.post(API, data={"title": "x"})).status_code == 415
    assert await stored(services) == []


async def test_the_form_keeps_what_was_typed_and_says_what_is_missing(
    services: Services, client: httpx.AsyncClient
) -> None:
    refused = await share(client, lang="en", consent="", contact_email="")
    assert refused.status_code == 422
    text = text_of(refused)
    assert "There is a problem with the form" in text
    assert 'href="#field-consent"' in refused.text
    assert 'href="#field-contact_email"' in refused.text
    assert FORM["title"] in refused.text  # kept
    assert await stored(services) == []


async def test_a_filled_honeypot_stores_nothing_and_keeps_the_form(
    services: Services, client: httpx.AsyncClient
) -> None:
    refused = await share(client, comment="http://spam.example")
    assert refused.status_code == 422
    assert "Formuläret kunde inte skickas" in text_of(refused)
    assert FORM["summary"].split("\n")[0] in refused.text
    assert await stored(services) == []


async def test_the_form_needs_its_csrf_token(services: Services, client: httpx.AsyncClient) -> None:
    await client.get(SHARE)
    assert (await client.post(SHARE, data=FORM)).status_code == 403
    assert await stored(services) == []


async def test_proposals_are_rate_limited_per_client_and_per_inbox(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Three an hour for one inbox, five an hour from one client; the sixth says when."""
    for n in range(3):
        assert (await client.post(API, json=JSON)).status_code == 202, n
    same_inbox = await client.post(API, json=JSON)
    assert same_inbox.status_code == 429
    assert int(same_inbox.headers["retry-after"]) > 0
    for n in range(2):
        other = {**JSON, "contact_email": f"annan{n}@kommun.example.se"}
        assert (await client.post(API, json=other)).status_code == 202
    held = await share(client, contact_email="tredje@kommun.example.se")
    assert held.status_code == 429
    assert "retry-after" in held.headers
    assert len(await stored(services)) == 5


async def test_a_decided_proposal_is_deleted_retention_days_after_the_decision(
    services: Services, client: httpx.AsyncClient
) -> None:
    """As the notice beside the form says; one still waiting is kept (until
    PROPOSAL_RETENTION_DAYS after it was sent: tests/workers/test_retention.py)."""
    for n, title in enumerate(("Avböjs", "Väntar")):
        body = {**JSON, "title": title, "contact_email": f"person{n}@kommun.example.se"}
        assert (await client.post(API, json=body)).status_code == 202
    rejected, _waiting = await stored(services)
    async with services.transaction() as session:
        await proposals.reject(session, rejected.id, note="Finns redan.", now=utcnow())
    days = timedelta(days=services.settings.retention_days)
    assert await purge_expired(services, now=utcnow() + days - timedelta(hours=1)) == Purged()
    later = await purge_expired(services, now=utcnow() + days + timedelta(hours=1))
    assert later == Purged(proposals=1)
    assert [p.title for p in await stored(services)] == ["Väntar"]
