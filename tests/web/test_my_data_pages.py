"""A data link that opens nothing any more says why, plainly, and offers a new one: it has
gone out (it is valid for an hour), or the data behind it is erased already."""

from __future__ import annotations

import time

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from foundation.services import Services
from foundation.timestamps import utcnow
from organisers.person_erasure import erase_by_link
from registrations.feeds import feed_for
from registrations.personal_data import SALT, _fingerprint, link_token
from tests.conftest import SECRET
from tests.factories import address, book, make_event
from tests.signing_in import text_of


class _TwoHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 3600


def _offers_a_new_link(page: httpx.Response) -> None:
    assert "Sidan finns inte" not in page.text
    assert 'action="/my-data"' in page.text
    assert 'name="email"' in page.text
    assert "Skriv din e-postadress nedan så skickar vi en ny länk." in text_of(page)


async def test_a_link_whose_data_is_erased_says_so_and_offers_a_new_one(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await book(services, event.id, 1)
    async with services.transaction() as session:
        token = link_token(await feed_for(session, address(1), SECRET), SECRET)
    async with services.transaction() as session:
        await erase_by_link(session, token, secret_key=SECRET, now=utcnow())

    for path in (f"/my-data/{token}", f"/my-data/{token}/erase", f"/my-data/{token}/data.json"):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert "uppgifterna redan raderats" in text_of(page), path
        _offers_a_new_link(page)
    english = await client.get(f"/my-data/{token}?lang=en")
    assert "Page not found" not in english.text
    assert "already been erased" in text_of(english)


async def test_a_link_past_its_hour_says_it_has_expired_and_offers_a_new_one(
    services: Services, client: httpx.AsyncClient
) -> None:
    event = await make_event(services)
    await book(services, event.id, 1)
    async with services.transaction() as session:
        feed = await feed_for(session, address(1), SECRET)
        old = URLSafeTimedSerializer(SECRET, salt=SALT, signer=_TwoHoursAgo).dumps(
            [feed.id, _fingerprint(feed, SECRET)]
        )
    page = await client.get(f"/my-data/{old}")
    assert page.status_code == 410
    assert "Länken har gått ut" in text_of(page)
    _offers_a_new_link(page)
