"""A change's preview in words: what changes, who is told what, where the note goes.

The workspace's preview page and the command line's `--dry-run` (lunchkafe.previews) both
word a `registrations.organising.ChangePreview` here, through the catalogue, so an organiser
reads the same sentences whichever way the change is made, in Swedish or English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.lists import format_list

from foundation.errors import N_
from foundation.i18n import format_datetime, format_span, translations
from registrations.organising import ChangePreview

# The fields a change can touch, in the order they are shown (the time is one fact).
LABELS = {
    "title": N_("Titel"),
    "summary": N_("Ingress"),
    "description": N_("Beskrivning"),
    "venue": N_("Plats"),
    "join_url": N_("Länk till mötet"),
    "capacity": N_("Antal platser"),
    "registration_opens_at": N_("Anmälan öppnar"),
    "registration_closes_at": N_("Anmälan stänger"),
}
LONG_TEXT = frozenset({"summary", "description"})  # said to change, not shown whole
MSG_TIME = N_("Tid")
MSG_OLD_TEXT = N_("tidigare text")
MSG_NEW_TEXT = N_("ny text")


@dataclass(frozen=True)
class ChangedFact:
    """One changed field as said: its label, and the value before and after as text
    (None: there was none, or there will be none)."""

    label: str
    before: str | None
    after: str | None


def changed_facts(preview: ChangePreview, *, language: str, tz: str) -> list[ChangedFact]:
    """What the change changes, one fact per field (the start and end together as the
    time), in `language` with times in `tz`; empty when nothing changes."""
    words = translations(language)
    event, changes = preview.event, preview.changes
    facts = []
    if "starts_at" in changes or "ends_at" in changes:
        starts = changes.get("starts_at", (None, event.starts_at))[1]
        ends = changes.get("ends_at", (None, event.ends_at))[1]
        facts.append(
            ChangedFact(
                words.gettext(MSG_TIME),
                format_span(event.starts_at, event.ends_at, tz, language),
                format_span(starts, ends, tz, language),
            )
        )
    for name, label in LABELS.items():
        if name not in changes:
            continue
        before, after = changes[name]
        if name in LONG_TEXT:
            facts.append(
                ChangedFact(
                    words.gettext(label), words.gettext(MSG_OLD_TEXT), words.gettext(MSG_NEW_TEXT)
                )
            )
        else:
            facts.append(
                ChangedFact(
                    words.gettext(label),
                    _written(before, language, tz),
                    _written(after, language, tz),
                )
            )
    return facts


def _written(value: Any, language: str, tz: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return format_datetime(value, tz, language)
    return str(value)


def outcome(preview: ChangePreview, *, language: str) -> list[str]:
    """Who is told what, one sentence each, then the number of mails; empty for a change
    that changes nothing. A group nobody is in gets no sentence ("0 bekräftade får …" said
    nothing), and when nobody gets a mail the last sentence says so. A cancelled event's
    second cancellation tells nobody: one sentence says so."""
    words = translations(language)
    if preview.already_cancelled:
        return [words.gettext("Evenemanget är redan inställt. Alla som var anmälda har fått veta.")]
    if not preview.cancelling and not preview.changes:
        return []
    said = []
    if preview.cancelling:
        if preview.cancelled:
            said.append(
                words.ngettext(
                    "%(num)d bekräftad får en avbokning som tar bort evenemanget ur kalendern.",
                    "%(num)d bekräftade får en avbokning som tar bort evenemanget ur kalendern.",
                    preview.cancelled,
                )
                % {"num": preview.cancelled}
            )
        if preview.waitlist_told:
            said.append(
                words.ngettext(
                    "%(num)d i kön får veta att evenemanget är inställt.",
                    "%(num)d i kön får veta att evenemanget är inställt.",
                    preview.waitlist_told,
                )
                % {"num": preview.waitlist_told}
            )
        said.append(
            words.gettext(
                "Evenemanget visas som inställt på webbplatsen och i kalenderflödena, "
                "och ingen kan boka det."
            )
        )
    else:
        if preview.invited:
            said.append(
                words.ngettext(
                    "%(num)d bekräftad får en uppdaterad kalenderinbjudan.",
                    "%(num)d bekräftade får en uppdaterad kalenderinbjudan.",
                    preview.invited,
                )
                % {"num": preview.invited}
            )
        if preview.promoted:
            said.append(
                words.ngettext(
                    "%(num)d flyttas upp från kön och får en kalenderinbjudan: %(names)s.",
                    "%(num)d flyttas upp från kön och får en kalenderinbjudan: %(names)s.",
                    preview.promoted,
                )
                % {"num": preview.promoted, "names": _names(preview.promoted_names, language)}
            )
        if preview.waitlist_told:
            said.append(
                words.ngettext(
                    "%(num)d i kön får veta om ändringen.",
                    "%(num)d i kön får veta om ändringen.",
                    preview.waitlist_told,
                )
                % {"num": preview.waitlist_told}
            )
        if not preview.calendar_changed:
            said.append(
                words.gettext(
                    "Titeln, tiden, platsen och länken är som förut, så ingen kalenderpost ändras."
                )
            )
    if preview.mails:
        said.append(
            words.ngettext("Totalt %(num)d mejl.", "Totalt %(num)d mejl.", preview.mails)
            % {"num": preview.mails}
        )
    else:
        said.append(words.gettext("Ingen får något mejl."))
    return said


NAMES_SHOWN = 10  # a raise by many seats names the first ten, then says how many more


def _names(names: tuple[str, ...], language: str) -> str:
    """'Anna Berg, Bo Ek och Cia Lund'; past NAMES_SHOWN, '… och 5 till'."""
    words = translations(language)
    shown = list(names[:NAMES_SHOWN])
    more = len(names) - len(shown)
    if more:
        shown.append(words.ngettext("%(num)d till", "%(num)d till", more) % {"num": more})
    return format_list(shown, locale=language)


def note_reach(preview: ChangePreview, *, language: str) -> str:
    """Where the organiser's note goes: in how many mails, or that none will carry it."""
    words = translations(language)
    if not preview.note_mails:
        return words.gettext("Ingen får något mejl om ändringen, så meddelandet skickas inte.")
    return words.ngettext(
        "Kommer med i %(num)d mejl, så här:",
        "Kommer med i %(num)d mejl, så här:",
        preview.note_mails,
    ) % {"num": preview.note_mails}
