"""What an event may be, whoever creates or changes it: pages, command line, API, imports.

Times within sane bounds, a length between a minute and a day, a capacity a room or a
meeting can have, text through foundation.text's rule, and a join link that is a web address.
Each check adds a Swedish message under the field's name to `errors`, so a page can show
every fault next to its field at once; `events.schedule` raises them together.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from events.errors import EventInPast, InvalidEvent
from foundation.errors import N_, DomainError, FilledMessage
from foundation.text import (
    MSG_REQUIRED,
    MSG_TOO_LONG,
    TextRefused,
    clean_line,
    clean_text,
    refused_character,
)

# Sane bounds, whoever asks (pages, command line, API, imports): times every calendar, feed
# and both databases handle, and that catch a typo (year 0202, 20 hours for 20 minutes)
# before anyone is invited.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive: the last day of 2100 is allowed
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(hours=24)
MIN_CAPACITY = 1
MAX_CAPACITY = 100_000
# Characters; title, venue and join_url match their columns, so PostgreSQL never truncates.
MAX_TITLE = 200
MAX_VENUE = 300
MAX_SUMMARY = 2_000
MAX_DESCRIPTION = 20_000
MAX_JOIN_URL = 500

# Swedish msgids, shown next to the field (pages) or after the option (command line).
MSG_TITLE_REQUIRED = N_("Ange en titel.")
MSG_AT_MOST = N_("Högst %(n)d tecken.")
MSG_NO_ZONE = N_("Tiden måste ha en tidszon.")
MSG_OUT_OF_RANGE = N_("Tiden måste ligga mellan år 2000 och 2100.")
MSG_ENDS_BEFORE_STARTS = N_("Sluttiden måste vara efter starttiden.")
MSG_TOO_SHORT = N_("Ett evenemang måste vara minst en minut långt.")
MSG_TOO_LONG_EVENT = N_("Ett evenemang kan vara högst 24 timmar långt.")
MSG_STARTS_IN_PAST = N_("Starttiden har redan passerat.")
MSG_ENDS_IN_PAST = N_("Sluttiden har redan passerat.")
MSG_CAPACITY = N_("Antalet platser måste vara mellan 1 och 100 000.")
MSG_BELOW_CONFIRMED = N_(
    "%(confirmed)d personer har redan en bekräftad plats; antalet platser kan inte bli färre än så."
)
MSG_JOIN_URL_SCHEME = N_("Länken måste börja med https:// eller http://.")
MSG_JOIN_URL_INVALID = N_("Länken är inte en giltig webbadress.")
MSG_WINDOW = N_("Anmälan måste stänga efter att den öppnar.")
MSG_OPENS_AFTER_START = N_("Anmälan måste öppna före starttiden.")
MSG_CLOSES_AFTER_START = N_("Anmälan kan inte stänga efter starttiden.")
MSG_SLUG = N_("Använd gemena bokstäver (a–z), siffror och bindestreck, högst 80 tecken.")


# Each text field: single line or not, its longest length, and whether it is required.
TEXT_FIELDS: dict[str, tuple[bool, int, bool]] = {
    "title": (True, MAX_TITLE, True),
    "venue": (True, MAX_VENUE, False),
    "host": (True, MAX_TITLE, False),
    "summary": (False, MAX_SUMMARY, False),
    "description": (False, MAX_DESCRIPTION, False),
}

# Every field clean_text_fields knows, the join link included.
TEXT_FIELD_NAMES = frozenset({*TEXT_FIELDS, "join_url"})


def clean_text_fields(values: dict[str, str | None], errors: dict[str, str]) -> dict[str, str]:
    """Each value through foundation.text's rule (None reads as empty); faults go to `errors`.

    Titles, venues and hosts are single lines (they become calendar properties and mail
    subjects); summaries and descriptions keep their line breaks. The join link is a URL.
    """
    cleaned: dict[str, str] = {}
    for name, value in values.items():
        if name == "join_url":
            cleaned[name] = _clean_join_url(value or "", errors)
            continue
        single_line, longest, required = TEXT_FIELDS[name]
        clean = clean_line if single_line else clean_text
        try:
            cleaned[name] = clean(value or "", max_length=longest, required=required)
        except TextRefused as exc:
            errors[name] = (
                MSG_TITLE_REQUIRED
                if exc.msgid == MSG_REQUIRED
                else FilledMessage(MSG_AT_MOST, n=longest)
                if exc.msgid == MSG_TOO_LONG
                else exc.msgid
            )
    return cleaned


def _clean_join_url(value: str, errors: dict[str, str]) -> str:
    """An http(s) URL with a host and nothing a header, a calendar or a page would break on."""
    url = value.strip()
    if not url:
        return ""
    if len(url) > MAX_JOIN_URL:
        errors["join_url"] = FilledMessage(MSG_AT_MOST, n=MAX_JOIN_URL)
        return url
    if refused_character(url) is not None or any(c.isspace() for c in url):
        errors["join_url"] = MSG_JOIN_URL_INVALID
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port outside 0..65535)
    except ValueError:
        errors["join_url"] = MSG_JOIN_URL_INVALID
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        errors["join_url"] = MSG_JOIN_URL_SCHEME
    return url


def check_times(
    errors: dict[str, str],
    *,
    starts_at: datetime,
    ends_at: datetime,
    opens: datetime | None,
    closes: datetime | None,
) -> None:
    """Each time within EARLIEST..LATEST and aware; the end a minute to a day after the
    start; registration (None: the defaults) opening before the start, closing no later
    than the start and after it opens. Faults go to `errors` under the field's name."""
    named = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "registration_opens_at": opens,
        "registration_closes_at": closes,
    }
    for name, moment in named.items():
        if moment is None:
            continue
        if moment.tzinfo is None or moment.utcoffset() is None:
            errors[name] = MSG_NO_ZONE
        elif not EARLIEST <= moment < LATEST:
            errors[name] = MSG_OUT_OF_RANGE
    if "starts_at" in errors or "ends_at" in errors:
        return
    if ends_at <= starts_at:
        errors["ends_at"] = MSG_ENDS_BEFORE_STARTS
    elif ends_at - starts_at < SHORTEST:
        errors["ends_at"] = MSG_TOO_SHORT
    elif ends_at - starts_at > LONGEST:
        errors["ends_at"] = MSG_TOO_LONG_EVENT
    # Booking lies before the start: a window reaching past it would let people book a
    # date already begun, or never open at all.
    if opens is not None and "registration_opens_at" not in errors and opens >= starts_at:
        errors["registration_opens_at"] = MSG_OPENS_AFTER_START
    if closes is not None and "registration_closes_at" not in errors and closes > starts_at:
        errors["registration_closes_at"] = MSG_CLOSES_AFTER_START
    window_faults = {"registration_opens_at", "registration_closes_at"} & errors.keys()
    if opens is not None and closes is not None and not window_faults and closes <= opens:
        errors["registration_closes_at"] = MSG_WINDOW


def check_capacity(errors: dict[str, str], capacity: int) -> None:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        errors["capacity"] = MSG_CAPACITY


MSG_PLACE_REQUIRED = N_("Ange en plats eller en länk till mötet.")


def check_place(
    errors: dict[str, str], *, published: bool, venue: str | None, join_url: str | None
) -> None:
    """A published event (being published, or staying so) has a venue or a join link, or
    its invite and reminders say nowhere to go; a draft may wait for its place. The fault
    goes on `venue`, unless either field is at fault already."""
    if published and not (venue or join_url) and not {"venue", "join_url"} & errors.keys():
        errors["venue"] = MSG_PLACE_REQUIRED


class PlaceMissing(InvalidEvent):
    """Publishing an event with neither venue nor join link (check_place): the sentence
    itself is the message, for a button's page that shows no fields."""

    def __init__(self) -> None:
        DomainError.__init__(self, MSG_PLACE_REQUIRED, fields={"venue": MSG_PLACE_REQUIRED})


def raise_if_any(errors: dict[str, str]) -> None:
    if not errors:
        return
    in_past = {MSG_STARTS_IN_PAST, MSG_ENDS_IN_PAST} & set(errors.values())
    raise (EventInPast if in_past else InvalidEvent)(errors)


# Reminders: a handful, each at most two weeks before the start (REMINDER_OFFSETS' notation).
MAX_REMINDERS = 5
LONGEST_REMINDER = timedelta(days=14)
MSG_REMINDERS = N_("Skriv tider före start åtskilda med komma, t.ex. 24h,1h (högst 14 dygn).")
MSG_TOO_MANY_REMINDERS = N_("Högst fem påminnelser.")


def read_reminder_offsets(text: str, errors: dict[str, str]) -> list[int] | None:
    """'24h,1h' → [1440, 60]: minutes before the start, largest first, repeats once.

    Empty text is None (the series' setting, else REMINDER_OFFSETS); "0" or "ingen" is []
    (no reminders). A fault goes to `errors["reminder_offsets"]` and the result is None.
    """
    from foundation.timeparse import parse_duration

    raw = text.strip().lower()
    if not raw:
        return None
    if raw in ("0", "ingen", "inga", "none"):
        return []
    try:
        minutes = {
            int(parse_duration(part, longest=LONGEST_REMINDER).total_seconds() // 60)
            for part in raw.split(",")
        }
    except ValueError:
        errors["reminder_offsets"] = MSG_REMINDERS
        return None
    if len(minutes) > MAX_REMINDERS:
        errors["reminder_offsets"] = MSG_TOO_MANY_REMINDERS
        return None
    return sorted(minutes, reverse=True)


def written_offsets(minutes: list[int] | None) -> str:
    """[1440, 90] → '24h,1h30m', the notation `read_reminder_offsets` reads ('' for None)."""
    if minutes is None:
        return ""
    if not minutes:
        return "0"
    parts = []
    for m in minutes:
        hours, rest = divmod(m, 60)
        parts.append(f"{hours}h{rest}m" if hours and rest else f"{hours}h" if hours else f"{rest}m")
    return ",".join(parts)
