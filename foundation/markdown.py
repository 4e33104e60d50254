"""Organisers' descriptions: Markdown to HTML that can be put on a public page as it is.

CommonMark through markdown-it-py's `js-default` preset (raw HTML off, links validated), then
nh3 (the ammonia sanitiser) with an allow-list, so whatever an organiser types, or pastes, no
script, event handler, style or `javascript:` link reaches a page: the sanitiser is the
guarantee, the Markdown preset only the first line. Headings become h3 and h4, so a
description never outranks the page's own h1 and h2 (WCAG 1.3.1's heading order).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "a", "ul", "ol", "li", "h3", "h4", "blockquote", "code"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

_parser = MarkdownIt("js-default")


def to_html(text: str) -> Markup:
    """`text` as Markdown, rendered and sanitised: safe HTML of the allowed tags only.

    Links keep only http, https and mailto addresses and get rel="noopener noreferrer";
    headings of level 1–2 become h3, deeper ones h4; anything else is dropped, its text kept.
    """
    import nh3  # imported on first use: only pages with a description need it

    tokens = _parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "h3" if token.tag in ("h1", "h2") else "h4"
    html = _parser.renderer.render(tokens, _parser.options, {})
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704  (sanitised above by nh3's allow-list)
