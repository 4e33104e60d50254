"""Organisers' Markdown becomes safe HTML: no script, no handler, no javascript: link, ever."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import example, given, settings
from hypothesis import strategies as st

from foundation.markdown import ALLOWED_SCHEMES, ALLOWED_TAGS, to_html


class Elements(HTMLParser):
    """Every start tag of a fragment, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def assert_safe(html: str) -> None:
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.lower().startswith("on"), (tag, name)
            assert name in ("href", "rel"), (tag, name)
            if name == "href":
                assert tag == "a"
                scheme = (value or "").split(":", 1)[0].strip().lower()
                assert ":" in (value or ""), value
                assert scheme in ALLOWED_SCHEMES, value
                assert "javascript:" not in (value or "").lower()


# Pieces an attacker would put together: raw HTML, links of every scheme, entities, breaks.
PIECES = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)" onclick="x()">a</a>',
        "[l](javascript:alert(1))",
        "[l](JaVaScRiPt:alert(1))",
        "[l](java\tscript:alert(1))",
        "[l](&#106;avascript:alert(1))",
        "[l](data:text/html;base64,PHNjcmlwdD4=)",
        "[l](vbscript:msgbox)",
        "[l](https://example.se/?a=1&b=2)",
        "[l](mailto:anna@example.se)",
        "<https://example.se>",
        "<javascript:alert(1)>",
        "![bild](https://example.se/x.png)",
        "<svg onload=alert(1)>",
        "<style>*{}</style>",
        '<iframe src="https://x">',
        "# Rubrik",
        "### Under",
        "> citat",
        "- punkt",
        "1. ett",
        "`kod`",
        "**fet** _kursiv_",
        "\n\n",
        "\n",
        "    indrag",
        "```\n<script>\n```",
        '" onmouseover="x',
        "<",
        ">",
        "&",
        "]",
        "(",
        ")",
        "on",
        "=",
    ]
)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12).map("".join))
@example("<ScRiPt>alert(1)</sCrIpT>[x](javascript:alert(1))<b onclick=x>b</b>")
def test_no_input_yields_script_handlers_or_javascript_links(text: str) -> None:
    assert_safe(str(to_html(text)))


def test_markdown_keeps_what_a_description_needs() -> None:
    html = str(
        to_html(
            "# Om kaféet\n\nVi pratar **förenkling** och _företagsklimat_.\n\n"
            "- ett\n- två\n\n> citat\n\nLäs [guiden](https://example.se/guide) "
            "eller skriv till [oss](mailto:kafe@example.se)."
        )
    )
    assert "<h3>Om kaféet</h3>" in html
    assert "<strong>förenkling</strong>" in html
    assert "<em>företagsklimat</em>" in html
    assert "<li>två</li>" in html
    assert "<blockquote>" in html
    assert '<a href="https://example.se/guide" rel="noopener noreferrer">guiden</a>' in html
    assert 'href="mailto:kafe@example.se"' in html


def test_raw_html_is_shown_as_text_not_run() -> None:
    html = str(to_html('<script>alert("x")</script> [a](javascript:alert(1))'))
    assert "&lt;script&gt;" in html
    assert elements(html) == [("p", [])]
