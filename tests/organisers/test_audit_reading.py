"""The audit log reads as sentences an admin understands, in Swedish and English: who (name
and address), did what (one catalogue phrase per action), to what (the event's title and
date, linked; a deleted one said so), when (Stockholm time), and the details with labels."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import event as sa_event
from sqlalchemy import select

import organisers
from events.models import Series
from foundation.services import Services
from organisers import audit, audit_reading, tokens
from organisers.audit_reading import PHRASES, readable_page
from organisers.models import AuditEntry, Organiser
from tests.factories import csrf_in, make_event, make_series
from tests.signing_in import add, sign_in, text_of

BOSS = "boss@myndigheten.example.se"
HOUR = timedelta(hours=1)
WINTER = datetime(2026, 1, 14, 11, 0, tzinfo=UTC)  # a Wednesday, 12.00 in Stockholm
STOCKHOLM = ZoneInfo("Europe/Stockholm")
INPUT = re.compile(r'<input[^>]*\bname="(\w+)"[^>]*\bvalue="([^"]*)"')


async def _record(
    services: Services, by: Organiser | None, action: str, subject: str, **detail: Any
) -> None:
    async with services.transaction() as session:
        who = await session.merge(by) if by is not None else None
        await audit.record(session, who, action, subject, now=WINTER, **detail)


def _table(page: httpx.Response, heading: str = "Detaljer") -> str:
    shown = text_of(page)
    return shown[shown.index(heading) :]


async def test_each_entry_reads_as_a_sentence_with_names_titles_and_labelled_details(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, BOSS, role="admin")
    bea = await add(services, "bea@kommun.example.se")
    starts = datetime(2026, 2, 4, 11, tzinfo=UTC)
    event = await make_event(
        services, title="Lunchkafé om förenkling", starts_at=starts, ends_at=starts + HOUR
    )
    event_id = event.id
    await _record(services, boss, "event.published", f"event:{event_id}")
    await _record(
        services,
        boss,
        "event.changed",
        f"event:{event_id}",
        fields="ends_at,starts_at",
        invited=12,
        promoted=0,
        waitlist_told=3,
        note=True,
    )
    await _record(services, boss, "attendees.viewed", f"event:{event_id}", rows=7, searched=False)
    await _record(services, boss, "attendees.exported", f"event:{event_id}", rows=7, format="csv")
    await _record(services, None, "event.cancelled", "event:987654", cancelled=2, waitlist_told=0)
    await _record(services, boss, "account.added", f"account:{bea.id}", role="organiser")
    await _record(services, boss, "weird.thing", "")
    await sign_in(client, BOSS)

    page = await client.get("/organiser/audit")
    assert page.status_code == 200
    table = _table(page)
    assert "Boss (boss@myndigheten.example.se) loggade in" in table
    assert (
        "Boss (boss@myndigheten.example.se) publicerade Lunchkafé om förenkling "
        "(onsdag 4 februari 2026)" in table
    )
    assert f'<a href="/organiser/events/{event_id}">Lunchkafé om förenkling</a>' in page.text
    assert "flyttade Lunchkafé om förenkling" in table  # only its time changed
    assert "Ändrat: börjar, slutar" in table  # the change form's words, in its order
    assert "Fick en uppdaterad inbjudan: 12" in table
    assert "I kön som fick veta: 3" in table
    assert "Meddelande till deltagarna: ja" in table
    assert "tittade på deltagarlistan för Lunchkafé om förenkling" in table
    assert "exporterade deltagarlistan för Lunchkafé om förenkling" in table
    assert "Rader: 7" in table
    assert "Format: CSV" in table
    assert "Systemet eller kommandoraden ställde in evenemang 987654 (borttaget)" in table
    assert "lade till kontot Bea" in table
    assert "Roll: arrangör" in table
    assert "weird.thing" in table  # no phrase for it: the code as it is
    assert "onsdag 14 januari 2026 kl. 12.00" in table  # Stockholm time
    for code in ("event.published", "attendees.viewed", "event:", "signed_in", "rows="):
        assert code not in table, code

    english = _table(await client.get("/organiser/audit?lang=en"), "Details")
    assert "Boss (boss@myndigheten.example.se) signed in" in english
    assert "rescheduled Lunchkafé om förenkling" in english
    assert "exported the attendee list of Lunchkafé om förenkling" in english
    assert "cancelled event 987654 (deleted)" in english
    assert "Rows: 7" in english


async def test_a_series_and_a_duplicate_are_named_by_their_titles(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, BOSS, role="admin")
    first, second, _ = await make_series(services)
    async with services.transaction() as session:
        series_id = (await session.scalars(select(Series.id))).one()
    await _record(services, boss, "series.created", f"series:{series_id}", events=3, dropped=1)
    await _record(
        services, boss, "event.duplicated", f"event:{second.id}", source=first.id, weeks=1
    )
    await sign_in(client, BOSS)
    page = await client.get("/organiser/audit")
    table = _table(page)
    assert "skapade serien Lunchkaféer" in table
    assert "Antal datum: 3" in table
    assert "Datum som valdes bort: 1" in table
    assert f"skapade kopian {second.title}" in table
    assert f"Kopia av: {first.title}" in table
    assert f'href="/organiser/series/{series_id}"' in page.text


async def test_the_filter_offers_phrases_and_keeps_working(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, BOSS, role="admin")
    event = await make_event(services)
    await _record(services, boss, "event.published", f"event:{event.id}")
    await _record(services, boss, "attendees.exported", f"event:{event.id}", rows=1, format="xlsx")
    await sign_in(client, BOSS)
    only = await client.get("/organiser/audit", params={"action": "attendees.exported"})
    assert '<option value="attendees.exported" selected>exporterade deltagarlistan för' in (
        only.text
    )
    table = _table(only)
    assert "exporterade deltagarlistan" in table
    assert "publicerade" not in table
    assert "Format: Excel (xlsx)" in table


async def test_titles_are_looked_up_once_a_page_not_once_a_row(services: Services) -> None:
    boss = await add(services, BOSS, role="admin")
    events = [await make_event(services, title=f"Kafé {n}") for n in range(12)]
    for n, made in enumerate(events):
        await _record(services, boss, "event.published", f"event:{made.id}", n=n)
        await _record(services, boss, "registration.promoted", f"event:{made.id}", registration=n)

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = services.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        async with services.transaction() as session:
            await session.scalar(select(Series.id))  # the transaction's own first statements
            statements.clear()
            few = await readable_page(session, size=2)
            used_for_few = len(statements)
            statements.clear()
            many = await readable_page(session, size=24)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(few.entries) == 2
    assert len(many.entries) == 24
    assert {e.target.text for e in many.entries if e.target} == {f"Kafé {n}" for n in range(12)}
    assert len(statements) == used_for_few == 4  # the page, its actions, events, accounts


def _codes_in_source() -> set[str]:
    """Every action code the code base hands to the audit log: constants passed to
    audit.record (or to a module's own function that passes its argument on), directly or
    through a module-level name."""
    codes: set[str] = set()
    code = re.compile(r"^[a-z]+(_[a-z]+)*(\.[a-z]+(_[a-z]+)*)?$")
    root = Path(organisers.__file__).resolve().parent.parent
    for path in root.glob("*/*.py"):
        if path.parts[-2] in ("tests", "migrations") or ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            called = called or (node.func.id if isinstance(node.func, ast.Name) else "")
            if called not in ("record", "_log"):
                continue
            for arg in node.args[1:4]:
                value = arg.value if isinstance(arg, ast.Constant) else None
                value = value if value is not None else names.get(getattr(arg, "id", ""))
                if isinstance(value, str) and code.match(value) and not value.startswith("event:"):
                    codes.add(value)
    return codes


def _detail_keys_in_source() -> set[str]:
    """Every detail key the code base hands to audit.record: its keyword arguments, and the
    keys of a dict display spread into it (`**grew`) in the same function."""
    keys: set[str] = set()
    root = Path(organisers.__file__).resolve().parent.parent
    for path in root.glob("*/*.py"):
        if path.parts[-2] in ("tests", "migrations") or ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            dicts = {
                target.id: node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign | ast.AnnAssign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name)
            }
            for node in ast.walk(function):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "audit"
                ):
                    continue
                for keyword in node.keywords:
                    if keyword.arg is not None:
                        keys.add(keyword.arg)
                    elif isinstance(keyword.value, ast.Name):
                        spread = dicts.get(keyword.value.id)
                        for display in ast.walk(spread) if spread is not None else []:
                            if isinstance(display, ast.Dict):
                                keys |= {
                                    k.value
                                    for k in display.keys
                                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                                }
    return keys - {"now"}


def test_every_detail_the_code_logs_has_a_label() -> None:
    keys = _detail_keys_in_source()
    assert {"fields", "rows", "capacity"} <= keys
    assert keys - set(audit_reading.LABELS) - audit_reading.HIDDEN == set()


def test_every_action_the_code_logs_has_a_phrase() -> None:
    codes = _codes_in_source()
    assert {"signed_in", "attendees.viewed", "message.sent", "series.date_added"} <= codes
    assert codes - set(PHRASES) == set()


async def test_entries_before_and_after_keep_their_order_and_paging(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, BOSS, role="admin")
    event = await make_event(services)
    async with services.transaction() as session:
        who = await session.merge(boss)
        for n in range(3):
            await audit.record(
                session,
                who,
                "event.updated",
                f"event:{event.id}",
                now=WINTER + timedelta(minutes=n),
            )
    async with services.transaction() as session:
        log = await readable_page(session, size=2)
    assert [e.phrase for e in log.entries] == ["redigerade", "redigerade"]
    assert log.older == log.entries[-1].id


async def test_a_change_of_no_fields_reads_changed_never_moved(
    services: Services, client: httpx.AsyncClient
) -> None:
    """An entry stored before empty changes were refused names no field: it did not move."""
    boss = await add(services, BOSS, role="admin")
    event = await make_event(services, title="Kafé utan ändring")
    await _record(services, boss, "event.changed", f"event:{event.id}", fields="", invited=0)
    await sign_in(client, BOSS)
    table = _table(await client.get("/organiser/audit"))
    assert "ändrade Kafé utan ändring" in table
    assert "flyttade" not in table


async def test_phrases_say_what_happened_never_cancelled_for_set(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, BOSS, role="admin")
    await make_series(services, events=1)
    async with services.transaction() as session:
        series_id = (await session.scalars(select(Series.id))).one()
    await _record(services, boss, "series.window_set", f"series:{series_id}", events=1)
    await sign_in(client, BOSS)
    table = _table(await client.get("/organiser/audit"))
    assert "ändrade anmälningstiden för serien Lunchkaféer" in table
    assert "ställde in" not in table  # "ställa in" is to cancel
    english = _table(await client.get("/organiser/audit?lang=en"), "Details")
    assert "changed the registration window of the series Lunchkaféer" in english
    for code, phrase in PHRASES.items():
        if not code.endswith(".cancelled"):
            assert not phrase.startswith("ställde in"), code


async def test_a_reset_asked_for_at_forgot_reads_as_someone_asking_and_keeps_no_more(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, BOSS, role="admin")
    await add(services, "bea@kommun.example.se")
    page = await client.get("/organiser/forgot")
    asked = await client.post(
        "/organiser/forgot",
        data={"csrf_token": csrf_in(page.text), "email": "bea@kommun.example.se"},
        headers={"user-agent": "Testlasaren/1.0"},
    )
    assert asked.status_code == 200
    async with services.transaction() as session:
        (entry,) = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "password.reset_requested")
            )
        ).all()
    # The account and the link's row; nothing of who asked (address, browser).
    assert (entry.organiser_id, set(entry.detail)) == (None, {"link"})
    stored = repr((entry.actor, entry.subject, entry.detail))
    for personal in ("127.0.0.1", "Testlasaren", "bea@"):
        assert personal not in stored

    await sign_in(client, BOSS)
    table = _table(await client.get("/organiser/audit"))
    assert "Någon bad om en länk för nytt lösenord till Bea" in table
    assert "skickade en länk för nytt lösenord" not in table
    english = _table(await client.get("/organiser/audit?lang=en"), "Details")
    assert "Someone asked for a new-password link for Bea" in english


async def test_words_field_order_and_quotes_are_the_apps_own(
    services: Services, client: httpx.AsyncClient
) -> None:
    boss = await add(services, BOSS, role="admin")
    event = await make_event(services)
    async with services.transaction() as session:
        await tokens.create_token(session, await session.merge(boss), "Intranätet", WINTER)
    subject = f"event:{event.id}"
    await _record(
        services, boss, "registration.added", subject, registration=3, status="waitlisted"
    )
    await _record(
        services,
        boss,
        "event.changed",
        subject,
        fields="capacity,ends_at,join_url,starts_at,title,venue",
    )
    await sign_in(client, BOSS)
    table = _table(await client.get("/organiser/audit"))
    assert "Status: i kö" in table
    assert "väntelista" not in table
    assert "Ändrat: titel, börjar, slutar, plats, länk till mötet, antal platser" in table
    assert "skapade åtkomstnyckeln ”Intranätet”" in table
    english = _table(await client.get("/organiser/audit?lang=en"), "Details")
    assert "Changed: title, starts, ends, location, meeting link, number of seats" in english
    assert "created the access token “Intranätet”" in english
    assert "”Intranätet" not in english  # Swedish opens with ”, English with “


async def test_a_real_publish_and_move_in_the_workspace_read_in_the_log(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Not hand-built entries: the workspace's own steps, then the log page."""
    await add(services, BOSS, role="admin")
    # 12.00 Stockholm time nine days ahead: a start at the current hour, moved an hour later,
    # passed midnight when the suite ran after 22.00 (the move's end was then refused).
    ahead = (datetime.now(UTC) + timedelta(days=9)).astimezone(STOCKHOLM)
    starts = ahead.replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
    draft = await make_event(
        services, title="Kafé på riktigt", starts_at=starts, ends_at=starts + HOUR, publish=False
    )
    await sign_in(client, BOSS)
    event_page = await client.get(f"/organiser/events/{draft.id}")
    published = await client.post(
        f"/organiser/events/{draft.id}/publish", data={"csrf_token": csrf_in(event_page.text)}
    )
    assert published.status_code == 303
    path = f"/organiser/events/{draft.id}/change"
    form = await client.get(path)
    values = {name: unescape(value) for name, value in INPUT.findall(form.text)}
    later = (starts + HOUR).astimezone(STOCKHOLM)
    values.update(
        starts=later.strftime("%H:%M"),
        ends=(later + HOUR).strftime("%H:%M"),
        csrf_token=csrf_in(form.text),
    )
    preview = await client.post(path, data=values)
    assert preview.status_code == 200, text_of(preview)
    seen = {name: unescape(value) for name, value in INPUT.findall(preview.text)}
    moved = await client.post(path, data={**seen, "confirm": "yes"})
    assert moved.status_code == 303

    table = _table(await client.get("/organiser/audit"))
    day = later.strftime("%-d")
    assert f"Boss ({BOSS}) publicerade Kafé på riktigt" in table
    assert f"Boss ({BOSS}) flyttade Kafé på riktigt" in table
    assert f" {day} " in table
    assert "Ändrat: börjar, slutar" in table
    assert "Fick en uppdaterad inbjudan: 0" in table


def test_the_reader_names_things_through_their_packages_services() -> None:
    """CONVENTIONS §2: events, series, guide examples and tokens are looked up through their
    packages' service functions, not read from their tables here."""
    source = Path(audit_reading.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert {m for m, _ in imported if m and m.startswith("sqlalchemy")} <= {
        "sqlalchemy.ext.asyncio"  # the session it passes on
    }
    for table in ("Event", "Series", "AccessToken"):
        assert not any(name == table for _, name in imported), table
    assert not re.search(r"session\.(get|scalars?|execute)\(", source)
