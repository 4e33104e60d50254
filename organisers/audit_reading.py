"""The audit log as an admin reads it: each entry a sentence of who did what to which thing.

The log stores codes ("event.published", "event:6", `rows=12`) so it outlives the titles
and names it speaks of; this turns a page of it into rows the log page renders: the
account's name and address, one catalogue phrase per action (an unknown code stays as it is),
the event, series or account by its title or name (an event since deleted as "evenemang 6
(borttaget)"), and each detail with a label. Titles and names are looked up through their
packages' service functions (events.titles, guide.catalogue, organisers.accounts and
organisers.tokens), one query per kind for the whole page, never one per row. Texts are
catalogue ids, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from events.titles import EventTitle, event_titles, series_titles
from foundation.errors import N_
from foundation.ids import is_id, parse_id
from guide.catalogue import examples_by_ids
from guide.models import GuideExample
from organisers import accounts, audit, tokens
from organisers.models import AuditEntry, Organiser

# One phrase per action, said of its subject: "Anna Berg publicerade <the event>".
PHRASES: dict[str, str] = {
    "signed_in": N_("loggade in"),
    "password.set": N_("valde ett lösenord"),
    "password.reset_requested": N_("bad om en länk för nytt lösenord till"),
    "account.added": N_("lade till kontot"),
    "account.invited": N_("skickade en inbjudan till"),
    "account.disabled": N_("stängde av kontot"),
    "account.signed_out": N_("avslutade alla inloggningar för"),
    "token.created": N_("skapade åtkomstnyckeln"),
    "token.revoked": N_("återkallade åtkomstnyckeln"),
    "event.created": N_("skapade"),
    "event.published": N_("publicerade"),
    "event.unpublished": N_("gjorde om till utkast"),
    "event.updated": N_("redigerade"),
    "event.changed": N_("ändrade"),
    "event.cancelled": N_("ställde in"),
    "event.deleted": N_("raderade utkastet"),
    "event.duplicated": N_("skapade kopian"),
    "event.example_linked": N_("kopplade ett exempel till"),
    "event.example_moved": N_("flyttade ett exempel i"),
    "event.example_unlinked": N_("tog bort ett exempel från"),
    "attendees.viewed": N_("tittade på deltagarlistan för"),
    "attendees.exported": N_("exporterade deltagarlistan för"),
    "registration.added": N_("lade till en deltagare i"),
    "registration.cancelled": N_("avbokade en deltagare från"),
    "registration.promoted": N_("gav en plats till någon i kön för"),
    "attendance.marked": N_("markerade närvaro på"),
    "message.sent": N_("skickade ett meddelande om"),
    "reminder.sent": N_("skickade en påminnelse om"),
    "mail.retried": N_("skickade om ett misslyckat mejl om"),
    "person.erased": N_("raderade en persons uppgifter på deras begäran"),
    "person.erased_by_link": N_("raderade sina egna uppgifter med en mejlad länk"),
    "series.created": N_("skapade serien"),
    "series.updated": N_("redigerade serien"),
    "series.window_set": N_("ändrade anmälningstiden för serien"),
    "series.date_added": N_("lade till ett datum i serien"),
    "series.example_linked": N_("kopplade ett exempel till serien"),
    "series.example_unlinked": N_("tog bort ett exempel från serien"),
    "proposal.approved": N_("godkände och publicerade förslaget"),
    "proposal.rejected": N_("avböjde förslaget"),
}
RESCHEDULED = N_("flyttade")  # event.changed when only its time changed
TIME_FIELDS = frozenset({"starts_at", "ends_at"})
# Actions on one's own account say so without naming it again: "Anna loggade in".
ON_ONESELF = frozenset({"signed_in", "password.set"})
# Actions nobody signed in takes: a visitor of a public page asked, and who is not kept.
# "Någon bad om en länk för nytt lösenord till Bea", not "Systemet … skickade".
BY_SOMEONE = frozenset({"password.reset_requested", "person.erased_by_link"})
SOMEONE = N_("Någon")
SYSTEM = N_("Systemet eller kommandoraden")
# A token's name as its owner typed it, in the reader's quotation marks.
QUOTED = N_("”%(name)s”")
PROPOSAL = N_("förslag %(id)s")

# The event's fields as a change names them, in the change form's words and order (time as
# start then end); a field the form does not ask for after the one it follows elsewhere.
FIELDS: dict[str, str] = {
    "title": N_("titel"),
    "summary": N_("ingress"),
    "description": N_("beskrivning"),
    "starts_at": N_("börjar"),
    "ends_at": N_("slutar"),
    "venue": N_("plats"),
    "join_url": N_("länk till mötet"),
    "capacity": N_("antal platser"),
    "registration_opens_at": N_("anmälan öppnar"),
    "registration_closes_at": N_("anmälan stänger"),
}

# Each detail's label, in the order they are shown; a key not here is shown as it is stored.
LABELS: dict[str, str] = {
    "fields": N_("Ändrat"),
    "invited": N_("Fick en uppdaterad inbjudan"),
    "promoted": N_("Flyttades upp från kön"),
    "cancelled": N_("Bekräftade som fick en avbokning"),
    "waitlist_told": N_("I kön som fick veta"),
    "note": N_("Meddelande till deltagarna"),
    "sequence": N_("Kalenderversion"),
    "rows": N_("Rader"),
    "searched": N_("Efter sökning"),
    "format": N_("Format"),
    "registration": N_("Anmälan nr"),
    "status": N_("Status"),
    "consent": N_("Samtycke"),
    "mark": N_("Närvaro"),
    "send": N_("Utskick nr"),
    "audience": N_("Till"),
    "recipients": N_("Mottagare"),
    "attempts": N_("Försök"),
    "role": N_("Roll"),
    "purpose": N_("Länken gäller"),
    "sessions": N_("Avslutade inloggningar"),
    "sessions_ended": N_("Avslutade inloggningar"),
    "tokens_revoked": N_("Återkallade åtkomstnycklar"),
    "registrations": N_("Anmälningar raderade"),
    "bookings_cancelled": N_("Kommande bokningar avbokade"),
    "mails_skipped": N_("Väntande mejl som inte skickas"),
    "proposals_erased": N_("Förslag till guiden raderade"),
    "event": N_("Evenemang"),
    "source": N_("Kopia av"),
    "weeks": N_("Veckor senare"),
    "example": N_("Exempel"),
    "examples": N_("Kopplade exempel"),
    "events": N_("Antal datum"),
    "dropped": N_("Datum som valdes bort"),
    "published": N_("Publicerades direkt"),
    "capacity": N_("Antal platser nu"),
    "page": N_("Sidan"),
}
# Stored words shown in the reader's words, per detail.
WORDS: dict[str, dict[str, str]] = {
    "status": {"confirmed": N_("bekräftad"), "waitlisted": N_("i kö")},
    "audience": {
        "confirmed": N_("bekräftade"),
        "waitlisted": N_("de i kön"),
        "all": N_("bekräftade och de i kön"),
    },
    "consent": {"by_organiser": N_("lämnat av arrangören")},
    "mark": {"present": N_("närvarande"), "no_show": N_("uteblev"), "undo": N_("ångrad")},
    "role": {"admin": N_("administratör"), "organiser": N_("arrangör")},
    "purpose": {"invite": N_("inbjudan"), "reset": N_("glömt lösenord")},
    "format": {"csv": N_("CSV"), "xlsx": N_("Excel (xlsx)")},
    "page": {"check_in": N_("incheckningen"), "outbox": N_("utkorgen")},
}
YES, NO = N_("ja"), N_("nej")
# A one-time link's row id, and a send key's hash (organisers.send_keys), tell a reader nothing.
HIDDEN = frozenset({"link", "send_key"})


@dataclass(frozen=True)
class Target:
    """What an entry or a detail is about, as the page links it: `text` (a title or name,
    shown as it is, or inside `quoted`, a catalogue text with `%(name)s`) or, when `text`
    is "", `missing` (a catalogue text with `%(id)s`); `route` and `params` for a link
    (route "": none); `starts_at` for an event's date."""

    text: str
    route: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    starts_at: datetime | None = None
    missing: str = ""
    id: int = 0
    quoted: str = ""


@dataclass(frozen=True)
class Detail:
    """One detail: its `label` (a catalogue id, or the stored key); the value as `words`
    (catalogue ids, joined by commas), `text` (shown as it is) or a `target`."""

    label: str
    text: str = ""
    words: tuple[str, ...] = ()
    target: Target | None = None


@dataclass(frozen=True)
class Actor:
    """Who: `name` and `email` of the account ("" when it is gone), or, when `system`, a
    catalogue text (the system or the command line; someone not signed in)."""

    name: str
    email: str = ""
    system: bool = False


@dataclass(frozen=True)
class ReadableEntry:
    """One entry as a sentence: `actor` `phrase` `target`, at `at`, with `details`."""

    id: int
    at: datetime
    actor: Actor
    action: str
    phrase: str  # a catalogue id, or the stored code when the catalogue has none
    target: Target | None
    details: list[Detail]


@dataclass(frozen=True)
class ActionChoice:
    code: str
    phrase: str


@dataclass(frozen=True)
class ReadableLog:
    """A page of the log to read: `entries`, newest first; `older`, the `before` of the next
    page (None: the last); `actions`, the filter's choices."""

    entries: list[ReadableEntry]
    older: int | None
    actions: list[ActionChoice]


def phrase_of(action: str) -> str:
    """The catalogue phrase for `action`, or the code itself when it has none."""
    return PHRASES.get(action, action)


async def readable_page(
    session: AsyncSession,
    *,
    before: int | None = None,
    action: str | None = None,
    size: int = audit.PAGE_SIZE,
) -> ReadableLog:
    """A page of the log (organisers.audit.page, with its paging and filter) as sentences.
    Looks up the events, series, accounts, tokens and guide examples the page names, one
    query each."""
    log = await audit.page(session, before=before, action=action, size=size)
    names = await _Names.look_up(session, log.entries)
    return ReadableLog(
        entries=[_readable(entry, names) for entry in log.entries],
        older=log.older,
        actions=[ActionChoice(code, phrase_of(code)) for code in log.actions],
    )


def _ref(value: str) -> tuple[str, int] | None:
    """ "event:6" as ("event", 6); None for anything else."""
    kind, _, raw = value.partition(":")
    number = parse_id(raw)
    return None if number is None else (kind, number)


def _int(value: object) -> int | None:
    """A detail's row id (stored as a JSON number); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and is_id(value):
        return value
    return None


@dataclass
class _Names:
    events: dict[int, EventTitle]
    series: dict[int, str]
    accounts: dict[int, Organiser]
    tokens: dict[int, str]
    examples: dict[int, GuideExample]

    @classmethod
    async def look_up(cls, session: AsyncSession, entries: Iterable[AuditEntry]) -> _Names:
        wanted: dict[str, set[int]] = {k: set() for k in ("event", "series", "account", "token")}
        examples: set[int] = set()
        for entry in entries:
            if entry.organiser_id is not None:
                wanted["account"].add(entry.organiser_id)
            ref = _ref(entry.subject)
            if ref and ref[0] in wanted:
                wanted[ref[0]].add(ref[1])
            for key in ("event", "source"):
                if (number := _int(entry.detail.get(key))) is not None:
                    wanted["event"].add(number)
            if (number := _int(entry.detail.get("example"))) is not None:
                examples.add(number)
        return cls(
            events=await event_titles(session, wanted["event"]),
            series=await series_titles(session, wanted["series"]),
            accounts=await accounts.accounts_by_ids(session, wanted["account"]),
            tokens=await tokens.token_names(session, wanted["token"]),
            examples=await examples_by_ids(session, examples),
        )

    def event(self, event_id: int) -> Target:
        found = self.events.get(event_id)
        if found is None:
            return Target("", missing=N_("evenemang %(id)s (borttaget)"), id=event_id)
        params = {"event_id": event_id}
        return Target(found.title, "organiser_event", params, starts_at=found.starts_at)

    def target(self, kind: str, number: int) -> Target:
        if kind == "event":
            return self.event(number)
        if kind == "series":
            series = self.series.get(number)
            if series is None:
                return Target("", missing=N_("serie %(id)s (borttagen)"), id=number)
            return Target(series, "organiser_series", {"series_id": number})
        if kind == "account":
            account = self.accounts.get(number)
            if account is None:
                return Target("", missing=N_("konto %(id)s (borttaget)"), id=number)
            return Target(account.name, "organiser_account", {"account_id": number})
        if kind == "token":
            token = self.tokens.get(number)
            if token is None:
                return Target("", missing=N_("nyckel %(id)s"), id=number)
            return Target(token, quoted=QUOTED)
        if kind == "proposal":  # a proposal to the guide ('Dela med dig')
            return Target("", missing=PROPOSAL, id=number)
        return Target(f"{kind} {number}")


def _readable(entry: AuditEntry, names: _Names) -> ReadableEntry:
    detail = dict(entry.detail or {})
    ref = _ref(entry.subject)
    target: Target | None
    if ref is None:
        target = Target(entry.subject) if entry.subject else None
    elif ref[0] == "outbox":  # a retried mail is about its event
        number = _int(detail.pop("event", None))
        target = names.event(number) if number is not None else None
    elif entry.action in ON_ONESELF and ref == ("account", entry.organiser_id):
        target = None
    else:
        target = names.target(*ref)
    phrase = phrase_of(entry.action)
    changed = set(_fields(detail))
    # Only a change that names its fields, all of them times, moved the event.
    if entry.action == "event.changed" and changed and changed <= TIME_FIELDS:
        phrase = RESCHEDULED
    return ReadableEntry(
        id=entry.id,
        at=entry.created_at,
        actor=_actor(entry, names),
        action=entry.action,
        phrase=phrase,
        target=target,
        details=_details(detail, names),
    )


def _actor(entry: AuditEntry, names: _Names) -> Actor:
    account = names.accounts.get(entry.organiser_id) if entry.organiser_id else None
    if account is not None:
        return Actor(account.name, account.email)
    if entry.organiser_id is None and entry.actor == "system":
        return Actor(SOMEONE if entry.action in BY_SOMEONE else SYSTEM, system=True)
    return Actor(entry.actor)  # the account is gone; its name then is kept


def _fields(detail: dict[str, Any]) -> list[str]:
    """The changed fields' names, in the change form's order (FIELDS; others after)."""
    raw = detail.get("fields")
    names = [name for name in raw.split(",") if name] if isinstance(raw, str) else []
    order = {name: n for n, name in enumerate(FIELDS)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _details(detail: dict[str, Any], names: _Names) -> list[Detail]:
    order = {key: n for n, key in enumerate(LABELS)}
    shown: list[Detail] = []
    for key in sorted(detail, key=lambda k: (order.get(k, len(order)), k)):
        value = detail[key]
        if key in HIDDEN or value is None:
            continue
        label = LABELS.get(key, key)
        if key == "fields":
            shown.append(Detail(label, words=tuple(FIELDS.get(f, f) for f in _fields(detail))))
        elif key in ("event", "source") and (number := _int(value)) is not None:
            shown.append(Detail(label, target=names.event(number)))
        elif key == "example" and (number := _int(value)) is not None:
            shown.append(Detail(label, target=_example(names, number)))
        elif key == "send" and (number := _int(value)) is not None:
            send = Target(str(number), "organiser_send", {"send_id": number})
            shown.append(Detail(label, target=send))
        elif isinstance(value, bool):
            shown.append(Detail(label, words=(YES if value else NO,)))
        elif isinstance(value, str) and value in WORDS.get(key, {}):
            shown.append(Detail(label, words=(WORDS[key][value],)))
        else:
            shown.append(Detail(label, text=str(value)))
    return shown


def _example(names: _Names, number: int) -> Target:
    example = names.examples.get(number)
    if example is None:
        return Target("", missing=N_("exempel %(id)s (borttaget)"), id=number)
    return Target(example.title, "guide_example", {"slug": example.slug})
