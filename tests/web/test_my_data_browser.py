"""The page a data link opens, read on a phone: each booking's facts are labelled facts
whose values keep their words whole (WCAG 1.4.10 Reflow), as the attendee list's are."""

from __future__ import annotations

import pytest

from foundation.services import Services
from registrations import booking
from registrations.feeds import feed_for
from registrations.personal_data import link_token
from tests.browser import Visitor
from tests.conftest import SECRET
from tests.factories import address, make_event, person

pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)

# Words of a value that the browser broke across lines: [word, lines it took] ("20.44–21.44"
# may wrap at its dash, as text does).
BROKEN_WORDS = """() => {
    const broken = [];
    const range = document.createRange();
    for (const dd of document.querySelectorAll("main dl.facts dd")) {
        const walker = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
            const value = text.textContent;
            for (const match of value.matchAll(/[^\\s\u2013-]+/g)) {
                range.setStart(text, match.index);
                range.setEnd(text, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (lines.size > 1) broken.push([match[0], lines.size]);
            }
        }
    }
    return broken;
}"""


async def test_my_data_keeps_each_value_whole_on_a_phone(
    services: Services, visitor: Visitor
) -> None:
    event = await make_event(services, title="Lunchkafé om förenkling")
    async with services.transaction() as session:
        await booking.book(
            session,
            event_id=event.id,
            attendee=person(
                1,
                organisation="Samhällsbyggnadsförvaltningen",
                municipality="Örnsköldsviks kommun",
            ),
            secret_key=SECRET,
        )
        token = link_token(await feed_for(session, address(1), SECRET), SECRET)
    for width in (320, 1280):
        page = await visitor.page(viewport={"width": width, "height": 900})
        await page.goto(f"{visitor.base}/my-data/{token}")
        await page.wait_for_load_state("load")
        assert await page.evaluate(BROKEN_WORDS) == [], width
