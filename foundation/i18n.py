"""Languages and Swedish-style dates: "onsdag 3 december 2026, kl. 12.00–13.00".

Message ids are the Swedish texts, so Swedish needs no catalogue and a missing English
translation falls back to Swedish rather than to a key. The English catalogue is read from
its .po file (no compiled .mo to build or commit): `python -m foundation.locale.extract`
refreshes it.
"""

from __future__ import annotations

import gettext
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("sv", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def catalogued() -> frozenset[str]:
    """Every message id of the catalogue (messages.pot): the texts this service says."""
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        return frozenset(str(m.id) for m in read_po(pot) if isinstance(m.id, str) and m.id)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalogue, compiled in memory from its .po once per process."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "sv" or not po_path.is_file():
        return gettext.NullTranslations()
    with po_path.open("rb") as po:
        catalog = read_po(po, locale=language, domain="messages")
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def format_date_long(moment: datetime, tz_name: str, language: str = "sv") -> str:
    local = moment.astimezone(ZoneInfo(tz_name))
    return format_date(local.date(), "EEEE d MMMM y", locale=language)


def format_clock(moment: datetime, tz_name: str, language: str = "sv") -> str:
    local = moment.astimezone(ZoneInfo(tz_name))
    return local.strftime("%H.%M") if language == "sv" else local.strftime("%H:%M")


def format_datetime(moment: datetime, tz_name: str, language: str = "sv") -> str:
    prefix = "kl." if language == "sv" else "at"
    return (
        f"{format_date_long(moment, tz_name, language)} "
        f"{prefix} {format_clock(moment, tz_name, language)}"
    )


def format_span(starts: datetime, ends: datetime, tz_name: str, language: str = "sv") -> str:
    """A time range as a Swede writes it, the date once when it is one day."""
    prefix = "kl." if language == "sv" else ""
    start_date = format_date_long(starts, tz_name, language)
    if starts.astimezone(ZoneInfo(tz_name)).date() == ends.astimezone(ZoneInfo(tz_name)).date():
        clock = f"{format_clock(starts, tz_name, language)}–{format_clock(ends, tz_name, language)}"
        return f"{start_date}, {prefix} {clock}".replace(",  ", ", ")
    return (
        f"{format_datetime(starts, tz_name, language)} – {format_datetime(ends, tz_name, language)}"
    )
