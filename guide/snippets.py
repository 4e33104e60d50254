"""What a search hit shows under its title: a stretch of plain text from the field that matched
(Markdown rendered and stripped, list items ended as sentences), or, when only the item's
challenges matched, which of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from foundation.markdown import to_html
from guide import search
from guide.models import GuideExample, GuideProcess, GuideTip, ProcessPhase

_BLOCKS = frozenset({"p", "li", "h3", "h4", "blockquote", "br"})
# A snippet is looked for in the first SCANNED words of each field only: each word checked
# costs a stem, and a page of 20 hits of texts up to 50,000 characters would otherwise stem
# every word of every field on the event loop. A hit further in shows the field's start.
SCANNED = 400
_ENDS = (".", "!", "?", ":", ";", "…")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")


def sentences(lines: Sequence[str]) -> str:
    """`lines` (paragraphs, list items) joined into one line, each ended as a sentence."""
    out = ""
    for line in (" ".join(line.split()) for line in lines):
        if not line:
            continue
        if out and not out.endswith(_ENDS):
            out += "."
        out = f"{out} {line}" if out else line
    return out


def plain(markdown: str) -> str:
    """`markdown` as plain text on one line: rendered, tags stripped, blocks and list items
    ended with a full stop unless they end with punctuation already."""
    reader = _Text()
    reader.feed(str(to_html(markdown)))
    reader.close()
    return sentences("".join(reader.parts).split("\n"))


def fields(
    item: GuideExample | GuideTip | GuideProcess, phases: Sequence[ProcessPhase] = ()
) -> list[str]:
    """The texts of `item` a snippet may come from, as plain text, in the page's order (a
    process's `phases` with their steps loaded): not its title, organisation, region,
    contact or challenges, shown beside the snippet."""
    if isinstance(item, GuideExample):
        found = [plain(item.summary), plain(item.body)]
        found += [plain("\n\n".join(values)) for values in (item.activities, item.results)]
        found.append(plain("\n\n".join(item.lessons)))
    elif isinstance(item, GuideTip):
        found = [plain(item.text), plain("\n\n".join(item.questions))]
    else:
        found = [plain(item.summary)]
        for phase in phases:
            found.append(sentences([phase.title, phase.checkpoint]))
            found += [sentences([step.title, plain(step.text)]) for step in phase.steps]
    return [text for text in found if text]


@dataclass(frozen=True)
class Shown:
    """A hit's snippet (escaped HTML, hits in <mark>), or the names of the challenges through
    which alone it matched."""

    snippet: Markup
    challenges: list[str] = field(default_factory=list)


def shown(
    item: GuideExample | GuideTip | GuideProcess,
    terms: Sequence[str],
    phases: Sequence[ProcessPhase] = (),
) -> Shown:
    """The snippet of the first field of `item` with a word matching `terms` among its first
    SCANNED words; if none has one, the challenges whose names match (the reason it was
    found) or, when it matched by its title or organisation (or further in), the start of its
    first field."""
    texts = [" ".join(text.split()[:SCANNED]) for text in fields(item, phases)]
    for text in texts:
        if any(search.matches(word, terms) for word in text.split()):
            return Shown(search.snippet(terms, text))
    named = [
        c.name
        for c in item.challenges
        if any(search.matches(word, terms) for word in c.name.split())
    ]
    if named:
        return Shown(Markup(""), named)
    return Shown(search.snippet(terms, texts[0]) if texts else Markup(""))


async def shown_all(
    session: AsyncSession,
    items: Sequence[GuideExample | GuideTip | GuideProcess],
    terms: Sequence[str],
) -> dict[tuple[str, int], Shown]:
    """`shown` for each of `items` (their challenges loaded), by (kind, id); reads the
    processes' phases and steps."""
    process_ids = [item.id for item in items if isinstance(item, GuideProcess)]
    phases: dict[int, list[ProcessPhase]] = {}
    if process_ids:
        found = await session.scalars(
            select(ProcessPhase)
            .options(selectinload(ProcessPhase.steps))
            .where(ProcessPhase.process_id.in_(process_ids))
            .order_by(ProcessPhase.position)
        )
        for phase in found:
            phases.setdefault(phase.process_id, []).append(phase)
    kinds = {GuideExample: "example", GuideTip: "tip", GuideProcess: "process"}
    return {
        (kinds[type(item)], item.id): shown(item, terms, phases.get(item.id, [])) for item in items
    }
