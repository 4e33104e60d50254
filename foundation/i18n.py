"""Languages and Swedish-style dates: "onsdag 3 december 2026, kl. 12.00–13.00".

Message ids are the Swedish texts, so Swedish needs no catalogue and a missing English
translation falls back to Swedish rather than to a key. The English catalogue is read from
its .po file (no compiled .mo to build or commit): `python -m foundation.locale.extract`
refreshes it.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
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


def accepted_language(header: str) -> str | None:
    """The language of LANGUAGES an `Accept-Language` header (RFC 9110 §12.5.4) prefers most,
    by quality and then by order; None when it accepts none of them (`*` included: it states
    no preference, so the caller's default applies). `en-GB` counts as `en`; `q=0` refuses."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:50]):  # a header is not a work list
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().partition("-")[0]
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def format_day(day: date, language: str = "sv") -> str:
    """A calendar date (a text's published or updated day) in the site's one order, day
    before month in both languages: "1 september 2026", "1 September 2026" (never the US
    "September 1, 2026" of CLDR's English long date)."""
    return format_date(day, "d MMMM y", locale=language)


def format_date_long(moment: datetime, tz_name: str, language: str = "sv") -> str:
    local = moment.astimezone(ZoneInfo(tz_name))
    return format_date(local.date(), "EEEE d MMMM y", locale=language)


def format_clock(moment: datetime, tz_name: str, language: str = "sv") -> str:
    """The one rule for a moment as local clock text, used by every page, mail, subject and
    command: "12.00" (Swedish) or "12:00" (English), and where that wall time happens twice
    in `tz_name` (the night the clocks go back) which of the two it is: "02.30 (sommartid)",
    "02:30 (standard time)". The calendar data itself carries TZID or UTC (events.calendar).
    """
    local = moment.astimezone(ZoneInfo(tz_name))
    clock = local.strftime("%H.%M") if language == "sv" else local.strftime("%H:%M")
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return clock
    return f"{clock} ({_which_clock(local, other, language)})"


def _which_clock(local: datetime, other: datetime, language: str) -> str:
    if bool(local.dst()) != bool(other.dst()):
        catalogue = translations(language)
        return catalogue.gettext("sommartid") if local.dst() else catalogue.gettext("normaltid")
    # A zone moving its standard offset repeats an hour without summer time: say the offset.
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "−" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60}" + (f":{abs(minutes) % 60:02d}" if minutes % 60 else "")


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
