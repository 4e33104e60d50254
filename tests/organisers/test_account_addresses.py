"""An account is found by its address however it is spelled: signing in, asking for a new
password and adding a second account with the same address all compare one key
(mail.addresses.canonical), so the punycode form of a stored internationalised domain finds it."""

from __future__ import annotations

import pytest

from foundation.services import Services
from foundation.timestamps import utcnow
from mail.models import OutboxMessage
from organisers.errors import MSG_EMAIL_TAKEN, InvalidAccount
from organisers.password_links import request_reset
from organisers.signing_in import sign_in
from tests.factories import outbox
from tests.signing_in import PASSWORD, add

STORED = "anna@räksmörgås.se"
TYPED = "Anna@XN--RKSMRGS-5WAO1O.se"  # the same mailbox, as a mail client may show it


async def test_signing_in_with_the_punycode_form_finds_the_account(services: Services) -> None:
    await add(services, STORED)
    token = await sign_in(services, "127.0.0.1", TYPED, PASSWORD, utcnow())
    assert token


async def test_a_forgotten_password_is_mailed_for_the_punycode_form(services: Services) -> None:
    organiser = await add(services, STORED)

    async def mailed() -> list[OutboxMessage]:
        return [r for r in await outbox(services) if r.recipient == organiser.email]

    before = len(await mailed())
    await request_reset(services, "127.0.0.1", TYPED, utcnow())
    assert len(await mailed()) == before + 1


async def test_the_same_address_in_another_spelling_is_taken(services: Services) -> None:
    await add(services, STORED)
    with pytest.raises(InvalidAccount) as refused:
        await add(services, TYPED)
    assert refused.value.fields["email"] == MSG_EMAIL_TAKEN
