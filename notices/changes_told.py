"""A change notice's account of what changed, old and new, in the recipient's language:
"Ny tid: torsdag 17 december 2026, kl. 12.00–13.00 (tidigare onsdag 16 december 2026,
kl. 12.00–13.00)". What changed comes from the outbox row (registrations.change_notice), never
from the event as it is when the mail is composed."""

from __future__ import annotations

from collections.abc import Sequence

from foundation.errors import N_
from foundation.i18n import format_span, translations
from registrations.change_notice import Change

NEW_TIME = N_("Ny tid: %(new)s (tidigare %(old)s)")
NEW_TITLE = N_("Ny titel: %(new)s (tidigare %(old)s)")
NEW_PLACE = N_("Ny plats: %(new)s (tidigare %(old)s)")
FIRST_PLACE = N_("Plats: %(new)s (ny)")
NO_PLACE = N_("Ingen plats längre (tidigare %(old)s)")
NEW_LINK = N_("Ny länk till mötet: %(new)s")
NO_LINK = N_("Mötet har ingen länk längre.")


def sentences(changes: Sequence[Change], *, language: str, tz_name: str) -> list[str]:
    """One sentence per change, in `language`; times written in `tz_name`. The join link's
    old value is never repeated: it no longer leads to the meeting."""
    said = translations(language).gettext
    found: list[str] = []
    for change in changes:
        if change.what == "time":
            (old_start, old_end), (new_start, new_end) = change.old, change.new
            old = format_span(old_start, old_end, tz_name, language)
            new = format_span(new_start, new_end, tz_name, language)
            found.append(said(NEW_TIME) % {"new": new, "old": old})
        elif change.what == "title":
            found.append(said(NEW_TITLE) % {"new": change.new, "old": change.old})
        elif change.what == "venue":
            if change.new and change.old:
                found.append(said(NEW_PLACE) % {"new": change.new, "old": change.old})
            elif change.new:
                found.append(said(FIRST_PLACE) % {"new": change.new})
            else:
                found.append(said(NO_PLACE) % {"old": change.old})
        elif change.what == "join_url":
            found.append(said(NEW_LINK) % {"new": change.new} if change.new else said(NO_LINK))
    return found
