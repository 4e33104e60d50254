"""The one base of every refusal a domain rule makes, and the marker for its messages.

A domain error says what went wrong in words for the person who asked, and how an adapter
answers it: `code` is a stable name for programs (the API's `code`), `status` the HTTP status
(RFC 9110 §15), `msgid` the Swedish sentence, marked with `N_` where it is written so that
Babel's own extractor finds it (`N_` is one of Babel's default keywords). Pages translate it
into the visitor's language (foundation.error_pages); the API returns the Swedish text in an
RFC 9457 problem document (foundation.problems); the command line prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from foundation.i18n import format_clock, format_datetime


def N_(message: str) -> str:
    """Mark `message` for the catalogue and return it untranslated.

    The text is translated later, where it is shown and the reader's language is known.
    """
    return message


class FilledMessage(str):
    """A catalogue message with its parameters, for a place that holds plain messages (a
    field's error): as a str it is the Swedish sentence filled in, so the API and the
    command line show it as they show any message; a page translates `msgid` and then fills
    in `params` (foundation.rendering), so "Högst %(n)d tecken." reads "At most 200
    characters." in English. Parameters are numbers or plain words, never the reader's input,
    or times written as clock text in the reader's language: an aware datetime by the one
    rule (foundation.i18n.format_clock, in its own zone: "02.30 (sommartid)"), a naive one
    as the wall time it is ("02.30", "02:30").
    """

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, /, **params: object) -> FilledMessage:
        filled = super().__new__(cls, msgid % _clocks_written(params, "sv"))
        filled.msgid = msgid
        filled.params = params
        return filled

    def translated(self, gettext: Callable[[str], str], language: str = "sv") -> str:
        """The sentence in the language `gettext` translates into (`language`, for the
        clock texts), parameters filled."""
        return gettext(self.msgid) % _clocks_written(self.params, language)


def _clocks_written(params: dict[str, object], language: str) -> dict[str, object]:
    return {
        name: _clock(value, language) if isinstance(value, datetime) else value
        for name, value in params.items()
    }


def _clock(moment: datetime, language: str) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%H.%M" if language == "sv" else "%H:%M")
    zone = moment.tzinfo
    return format_clock(moment, zone.key if isinstance(zone, ZoneInfo) else "UTC", language)


def _swedish_moment(moment: datetime) -> str:
    tz = moment.tzinfo
    return format_datetime(moment, tz.key if isinstance(tz, ZoneInfo) else "UTC")


class DomainError(Exception):
    """A refusal: `code`, `status`, a Swedish `msgid` with `%(name)s` placeholders filled
    from `params`, and for validation `fields`, mapping each field to its msgid.

    `headers` are HTTP headers the answer must carry (429's `Retry-After`).
    """

    code = "error"
    status = 400
    # Further members of the API's problem document (`retry_after`, …).
    extensions: Mapping[str, object] = {}

    def __init__(
        self,
        msgid: str,
        /,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> None:
        self.msgid = msgid
        self.params = params
        self.fields: dict[str, str] = dict(fields or {})
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The Swedish sentence, placeholders filled; instants in their own time zone."""
        return self.translated(str, _swedish_moment)

    def translated(
        self, gettext: Callable[[str], str], when: Callable[[datetime], str] = _swedish_moment
    ) -> str:
        """The sentence in the language `gettext` translates into, placeholders filled;
        parameters that are instants (aware datetimes) are written by `when`, so a page can
        write them in the reader's language and zone."""
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {
            name: when(value) if isinstance(value, datetime) else value
            for name, value in self.params.items()
        }
