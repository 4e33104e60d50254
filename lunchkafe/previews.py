"""A change's preview as the command line prints it: the same numbers the workspace shows,
in Swedish, one line each (registrations.organising.ChangePreview)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from foundation.i18n import format_datetime, format_span
from registrations.organising import ChangePreview

# The fields a change can touch, in the order they are printed.
LABELS = {
    "title": "Titel",
    "summary": "Ingress",
    "description": "Beskrivning",
    "venue": "Plats",
    "join_url": "Länk till mötet",
    "capacity": "Antal platser",
    "registration_opens_at": "Anmälan öppnar",
    "registration_closes_at": "Anmälan stänger",
}
LONG_TEXT = ("summary", "description")


def preview_lines(preview: ChangePreview, tz: str) -> list[str]:
    """What the change would do, as lines of text: what changes, then who is told what."""
    event = preview.event
    lines = [
        f"Evenemang {event.id}: {event.title}, {format_span(event.starts_at, event.ends_at, tz)}"
    ]
    if preview.already_cancelled:
        return [*lines, "Evenemanget är redan inställt; ingen får något nytt mejl."]
    if preview.cancelling:
        lines += [
            "Ställs in.",
            f"{preview.cancelled} bekräftade får en avbokning som tar bort evenemanget ur "
            "kalendern.",
            f"{preview.waitlist_told} i kön får veta att evenemanget är inställt.",
        ]
    else:
        changes = preview.changes
        if not changes:
            return [*lines, "Inget ändras."]
        lines.append("Ändras:")
        if "starts_at" in changes or "ends_at" in changes:
            starts = changes.get("starts_at", (event.starts_at, event.starts_at))[1]
            ends = changes.get("ends_at", (event.ends_at, event.ends_at))[1]
            lines.append(
                f"  Tid: {format_span(event.starts_at, event.ends_at, tz)} → "
                f"{format_span(starts, ends, tz)}"
            )
        for name, label in LABELS.items():
            if name in changes:
                before, after = changes[name]
                if name in LONG_TEXT:
                    lines.append(f"  {label}: ny text")
                else:
                    lines.append(f"  {label}: {_shown(before, tz)} → {_shown(after, tz)}")
        lines.append(f"{preview.invited} bekräftade får en uppdaterad kalenderinbjudan.")
        if preview.promoted:
            lines.append(f"{preview.promoted} flyttas upp från kön och får en kalenderinbjudan.")
        lines.append(f"{preview.waitlist_told} i kön får veta om ändringen.")
    if preview.note_mails:
        lines.append(f"Meddelandet kommer med i {preview.note_mails} mejl.")
    lines.append(f"Totalt {preview.mails} mejl.")
    return lines


def _shown(value: Any, tz: str) -> str:
    if value is None or value == "":
        return "(ingen)"
    if isinstance(value, datetime):
        return format_datetime(value, tz)
    return str(value)
