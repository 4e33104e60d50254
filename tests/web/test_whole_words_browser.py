"""Headings and label/value facts on a phone (WCAG 1.4.10 Reflow): no word of a heading or
of a fact's value is broken across lines ("Kompetensförs|örjning", "utvecklingsm|edel"), and a
fact's label stands above its value instead of squeezing it into a narrow column. An e-mail
address longer than the screen may still break; it is not a word."""

from __future__ import annotations

import pytest

from foundation.services import Services
from lunchkafe.demo import load_demo
from tests.browser import Visitor

pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)

PAGES = (
    "/guide?q=f%C3%A5r",
    "/guide/challenges/kompetensforsorjning",
    "/privacy",
    "/guide/sormland-strukturbild",
    "/guide/kramfors-bygdemedel",
)

# Words (not inside a mail link) of main's headings and fact values that the browser broke
# across lines: [tag, word] ("2020–2022" may wrap at its dash, as text does).
BROKEN_WORDS = """() => {
    const broken = [];
    const range = document.createRange();
    for (const el of document.querySelectorAll("main h1, main h2, main h3, main dl dd")) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
            if (text.parentElement.closest("a[href^='mailto:']")) continue;
            const value = text.textContent;
            for (const match of value.matchAll(/[^\\s\u2013-]+/g)) {
                range.setStart(text, match.index);
                range.setEnd(text, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (lines.size > 1) broken.push([el.tagName, match[0]]);
            }
        }
    }
    return broken;
}"""

# Facts whose value does not start below its label's bottom.
BESIDE = """() => [...document.querySelectorAll("main dl.facts dt")].filter((dt) => {
    const dd = dt.nextElementSibling;
    return dd && dd.getBoundingClientRect().top < dt.getBoundingClientRect().bottom - 1;
}).map((dt) => dt.textContent)"""


async def test_headings_and_facts_keep_their_words_whole_on_a_phone(
    services: Services, visitor: Visitor
) -> None:
    await load_demo(services, only_if_empty=False)
    for width in (320, 1280):
        page = await visitor.page(viewport={"width": width, "height": 900})
        for path in PAGES:
            answer = await page.goto(f"{visitor.base}{path}")
            assert answer is not None
            assert answer.status == 200, path
            assert await page.evaluate(BROKEN_WORDS) == [], (width, path)
            if width == 320:
                assert await page.evaluate(BESIDE) == [], path


# The tops of the search form's labels, by row (fields whose boxes overlap vertically).
LABEL_TOPS = """() => {
    const rows = [];
    for (const field of document.querySelectorAll("form.filter > .field")) {
        const box = field.getBoundingClientRect();
        const label = Math.round(field.querySelector("label").getBoundingClientRect().top);
        const row = rows.find((r) => box.top < r.bottom && box.bottom > r.top);
        if (row) row.labels.push(label);
        else rows.push({top: box.top, bottom: box.bottom, labels: [label]});
    }
    return rows.map((r) => r.labels);
}"""


async def test_the_search_form_s_labels_sit_level(services: Services, visitor: Visitor) -> None:
    page = await visitor.page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{visitor.base}/guide?q=f%C3%A5r")
    rows = await page.evaluate(LABEL_TOPS)
    assert any(len(row) > 1 for row in rows)
    for row in rows:
        assert max(row) - min(row) <= 1, rows


async def test_the_share_form_s_phone_field_is_styled_as_the_others(
    services: Services, visitor: Visitor
) -> None:
    page = await visitor.page(viewport={"width": 320, "height": 900})
    await page.goto(f"{visitor.base}/guide/share")
    phone = await page.locator("#field-contact_phone").bounding_box()
    email = await page.locator("#field-contact_email").bounding_box()
    assert phone is not None
    assert email is not None
    assert (round(phone["width"]), round(phone["height"])) == (
        round(email["width"]),
        round(email["height"]),
    )
