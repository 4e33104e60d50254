"""Field messages with a number in them (a longest length, the seats already taken) are
catalogue messages filled in where they are shown, in the reader's language."""

from __future__ import annotations

import re
from html import unescape

from events.rules import MAX_TITLE, MSG_AT_MOST, TEXT_FIELDS, clean_text_fields
from foundation.errors import FilledMessage
from foundation.i18n import translations
from foundation.services import Services
from tests.factories import book, csrf_in, make_event
from tests.signing_in import signed_in_client, text_of

INPUT = re.compile(r'<input[^>]*\bname="(\w+)"[^>]*\bvalue="([^"]*)"')


def test_a_too_long_title_is_a_catalogue_message_with_its_number() -> None:
    errors: dict[str, str] = {}
    clean_text_fields({"title": "x" * (MAX_TITLE + 1)}, errors)
    message = errors["title"]
    assert message == "Högst 200 tecken."  # as the API and the command line show it
    assert isinstance(message, FilledMessage)
    assert message.msgid == MSG_AT_MOST
    assert message.translated(translations("en").gettext) == "At most 200 characters."
    assert TEXT_FIELDS["title"][1] == MAX_TITLE


async def test_an_english_page_shows_the_numbered_messages_in_english(
    services: Services,
) -> None:
    event = await make_event(services, capacity=5)
    for n in range(1, 4):
        await book(services, event.id, n)
    path = f"/organiser/events/{event.id}/change"
    async with signed_in_client(services) as client:
        page = await client.get(path, params={"lang": "en"})
        values = {name: unescape(value) for name, value in INPUT.findall(page.text)}
        values["csrf_token"] = csrf_in(page.text)
        refused = await client.post(
            path, data={**values, "capacity": "2", "title": "x" * (MAX_TITLE + 1)}
        )
    assert refused.status_code == 422
    said = text_of(refused)
    assert "At most 200 characters." in said
    assert "3 people already have a confirmed seat" in said
    assert "Högst" not in said
    assert "personer har redan" not in said
