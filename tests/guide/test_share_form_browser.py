"""'Dela med dig' in Chromium: its textareas look like the site's other fields (the site's
font, not the browser's monospace; as wide as the inputs above them; the same border) at a
desktop's 1280 px and a phone's 320 px."""

from __future__ import annotations

from typing import Any

from foundation.services import Services
from tests.browser import Visitor

STYLE = """(selector) => {
  const e = document.querySelector(selector);
  const s = getComputedStyle(e);
  return {font: s.fontFamily, size: s.fontSize, width: e.getBoundingClientRect().width,
          border: s.borderTopWidth + ' ' + s.borderTopStyle, padding: s.paddingLeft};
}"""


async def test_the_share_forms_textareas_look_like_its_other_fields(
    services: Services, visitor: Visitor, live_server: str
) -> None:
    for width in (1280, 320):
        page = await visitor.page(viewport={"width": width, "height": 900})
        await page.goto(f"{live_server}/guide/share?lang=sv")
        line: dict[str, Any] = await page.evaluate(STYLE, "#field-title")
        for name in ("summary", "body"):
            area: dict[str, Any] = await page.evaluate(STYLE, f"#field-{name}")
            assert "monospace" not in area["font"], (width, area)
            assert area["font"] == line["font"]
            assert area["size"] == line["size"]
            assert area["border"] == line["border"] == "2px solid"
            assert area["padding"] == line["padding"]
            assert abs(area["width"] - line["width"]) < 1, (width, area, line)
        assert area["width"] <= width
