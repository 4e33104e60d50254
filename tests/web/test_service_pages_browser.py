"""The pages on who runs the service, privacy and accessibility pass axe-core (WCAG 2.1 AA)
in Swedish and English, on a desktop and on a 320 px phone (issue 13; the statement on
/accessibility says these checks are made)."""

from __future__ import annotations

import pytest

from tests.browser import Visitor, axe_violations

pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


async def test_the_service_pages_pass_axe_in_both_languages_and_on_a_phone(
    visitor: Visitor,
) -> None:
    found: dict[str, object] = {}
    for width in (1280, 320):
        page = await visitor.page(viewport={"width": width, "height": 800})
        for path in ("/about", "/privacy", "/accessibility"):
            for language in ("sv", "en") if width == 320 else ("sv",):
                answer = await page.goto(f"{visitor.base}{path}?lang={language}")
                assert answer is not None
                assert answer.status == 200, path
                assert await page.evaluate("document.documentElement.lang") == language
                violations = await axe_violations(page, visitor.base)
                wide = await page.evaluate("document.documentElement.scrollWidth")
                if violations or wide > width:
                    found[f"{width}px {path}?lang={language}"] = (wide, violations)
        # The footer's links lead to the pages, by keyboard as by mouse.
        await page.goto(f"{visitor.base}/?lang=sv")
        await page.get_by_role("link", name="Tillgänglighetsredogörelse").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{visitor.base}/accessibility")
    assert found == {}
