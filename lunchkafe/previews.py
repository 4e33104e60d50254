"""A change's preview as the command line prints it: the workspace's own sentences
(organisers.change_wording, through the catalogue), one line each."""

from __future__ import annotations

from foundation.i18n import format_span, translations
from organisers.change_wording import changed_facts, note_reach, outcome
from registrations.organising import ChangePreview


def preview_lines(
    preview: ChangePreview, tz: str, language: str = "sv", *, note: str = ""
) -> list[str]:
    """What the change would do, as lines of text: what changes, then who is told what and
    where the organiser's `note` goes."""
    event = preview.event
    words = translations(language)
    lines = [
        f"{event.id}: {event.title}, {format_span(event.starts_at, event.ends_at, tz, language)}"
    ]
    if preview.cancelling and not preview.already_cancelled:
        lines.append(words.gettext("Så här blir det om du ställer in"))
    elif not preview.cancelling:
        # Never empty: a change of nothing is refused before a preview is made.
        facts = changed_facts(preview, language=language, tz=tz)
        lines.append(words.gettext("Det här ändras"))
        none = words.gettext("ingen")
        lines += [f"  {f.label}: {f.before or none} → {f.after or none}" for f in facts]
    told = outcome(preview, language=language)
    if note.strip() and not preview.already_cancelled:
        told[-1:-1] = [note_reach(preview, language=language), *_indented(note)]
    return [*lines, *told]


def _indented(note: str) -> list[str]:
    return ["  " + line for line in note.strip().splitlines()]
