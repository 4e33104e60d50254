"""What the event page, its edit form and the change preview say, as a tester walking the
workspace read them (issue 9): the confirming button names the event, not a destination; a
preview leaves out the groups nobody is in; why a booked event cannot become a draft is said
once, as text; the reminders and co-host in effect are shown with where they come from, and
saving the edit form unchanged keeps the event following its series. Through the app's
client, in Swedish and English, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import httpx
from sqlalchemy import update

from events.models import Event, Series
from events.schedule import create_series
from foundation.i18n import format_datetime
from foundation.services import Services
from tests.factories import add_confirmed, book, csrf_in, make_event
from tests.signing_in import add, sign_in, text_of

TZ = "Europe/Stockholm"
BUTTON = re.compile(r'<button[^>]*name="confirm"[^>]*>(.*?)</button>', re.S)
PARTNER = "Landsbygdsnätverket"


class _Form(HTMLParser):
    """The fields a browser would send from a page's form with `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside = action, False
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        elif self.inside and tag == "input" and "name" in found:
            self.fields[found["name"]] = found.get("value", "")
        elif self.inside and tag == "textarea":
            self._textarea = found["name"]
            self.fields[self._textarea] = ""
        elif self.inside and tag == "option" and "selected" in found:
            self.fields[self._select] = found.get("value", "")
        elif self.inside and tag == "select":
            self._select = found["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data


def form_fields(page: httpx.Response, action: str) -> dict[str, str]:
    parser = _Form(action)
    parser.feed(page.text)
    # A browser drops the newline right after <textarea>; the parser keeps it.
    return {name: value.removeprefix("\n") for name, value in parser.fields.items()}


async def signed_in(services: Services, client: httpx.AsyncClient) -> None:
    await add(services, "anna@myndigheten.example.se")
    assert (await sign_in(client, "anna@myndigheten.example.se")).status_code == 303


def confirm_button(page: httpx.Response) -> str:
    (found,) = BUTTON.findall(page.text)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", found))).strip()


async def event_in_a_series(
    services: Services, *, reminders: list[int] | None = None, own_host: str = ""
) -> Event:
    async with services.transaction() as session:
        series = await create_series(session, slug="vinter", title="Vinterkaféer", host=PARTNER)
        series.reminder_offsets = reminders
    event = await make_event(services, series_slug="vinter")
    if own_host:
        async with services.transaction() as session:
            await session.execute(update(Event).where(Event.id == event.id).values(host=own_host))
    return event


async def test_the_confirming_button_names_the_event_it_changes(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in the walk: "Confirm the change to Thursday 14 January 2027 at 13:00" named
    the event's old time as though it were the new one."""
    event = await make_event(services)
    await book(services, event.id, 1)
    await signed_in(services, client)
    path = f"/organiser/events/{event.id}/change"
    for language, expected in (
        ("sv", f"Bekräfta ändringen av evenemanget {format_datetime(event.starts_at, TZ, 'sv')}"),
        (
            "en",
            f"Confirm the change to the event on {format_datetime(event.starts_at, TZ, 'en')}",
        ),
    ):
        form = await client.get(f"{path}?lang={language}")
        values = form_fields(form, path)
        # Another clock time on the same day (one that ends before midnight, whenever run).
        moved = "10:00" if values["starts"] != "10:00" else "13:00"
        values |= {"starts": moved, "ends": moved.replace(":00", ":45")}
        preview = await client.post(path, data=values)
        assert preview.status_code == 200
        assert confirm_button(preview) == expected


async def test_a_preview_leaves_out_the_groups_nobody_is_in(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in the walk: lowering the seats said "0 bekräftade får en uppdaterad
    kalenderinbjudan" and "Totalt 0 mejl"."""
    event = await make_event(services, capacity=20)
    await add_confirmed(services, event.id, range(1, 3))
    await signed_in(services, client)
    path = f"/organiser/events/{event.id}/change"
    values = form_fields(await client.get(path), path)
    said = text_of(await client.post(path, data={**values, "capacity": "2"}))
    assert "ingen kalenderpost ändras" in said
    assert "Ingen får något mejl." in said
    assert not re.search(r"\b0 (bekräftad|i kön|flyttas)", said), said
    assert "Totalt" not in said
    english = text_of(await client.post(f"{path}?lang=en", data={**values, "capacity": "2"}))
    assert "Nobody gets a mail." in english
    assert not re.search(r"\b0 (confirmed|on the waiting list|mails)", english), english

    # Cancelling with nobody in line says nothing of the line.
    cancel = f"/organiser/events/{event.id}/cancel"
    form = await client.get(f"{cancel}?lang=sv")
    said = text_of(await client.post(cancel, data={"csrf_token": csrf_in(form.text)}))
    assert "2 bekräftade får en avbokning" in said
    assert "i kön" not in said.replace("0 i kön.", "")  # the form's count line aside
    assert "Totalt 2 mejl." in said


async def test_a_booked_event_says_once_why_it_cannot_become_a_draft(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in the walk: a dashed look-alike of a button said "Gör till utkast igen går
    inte: 2 har anmält sig", and the text under it said it again."""
    event = await make_event(services)
    await add_confirmed(services, event.id, range(1, 3))
    await signed_in(services, client)
    page = await client.get(f"/organiser/events/{event.id}")
    said = text_of(page)
    assert said.count("Gör till utkast igen") == 1
    assert "Gör till utkast igen går inte: 2 har anmält sig." in said
    assert "Ställ in evenemanget i stället, så får de anmälda veta." in said
    assert "Bara ett evenemang som ingen har anmält sig till" not in said
    assert "action-refused" not in page.text


async def test_the_event_page_shows_the_reminders_and_co_host_in_effect(
    services: Services, client: httpx.AsyncClient
) -> None:
    """Found in the walk: "Påminnelser: seriens eller webbplatsens standard" instead of
    when the reminders go."""
    assert services.settings.reminder_offsets == (24 * 60, 60)
    site = await event_in_a_series(services)
    await signed_in(services, client)
    said = text_of(await client.get(f"/organiser/events/{site.id}"))
    assert "Påminnelser 24 timmar, 1 timme före start (webbplatsens standard)" in said
    assert f"Medarrangör {PARTNER} (från serien)" in said
    assert "seriens eller webbplatsens standard" not in said
    english = text_of(await client.get(f"/organiser/events/{site.id}?lang=en"))
    assert "24 hours, 1 hour before the start (the site's default)" in english
    await client.get(f"/organiser/events/{site.id}?lang=sv")

    async with services.transaction() as session:
        await session.execute(update(Series).values(reminder_offsets=[120]))
    said = text_of(await client.get(f"/organiser/events/{site.id}"))
    assert "Påminnelser 2 timmar före start (från serien)" in said

    async with services.transaction() as session:
        await session.execute(
            update(Event).where(Event.id == site.id).values(reminder_offsets=[30], host="Leader")
        )
    said = text_of(await client.get(f"/organiser/events/{site.id}"))
    assert "Påminnelser 30 minuter före start" in said
    assert "Påminnelser 30 minuter före start (" not in said  # the event's own: no source
    assert "Medarrangör Leader Anmälan" in said
    assert "(från serien)" not in said


async def test_saving_the_edit_form_unchanged_keeps_the_series_co_host_and_reminders(
    services: Services, client: httpx.AsyncClient
) -> None:
    """The walk saw "Medarrangör" empty on the form while the page showed the series' co-host:
    the form says what empty means now, and saving it unchanged keeps the event following
    its series (no co-host or reminders cleared, nor copied onto the event)."""
    event = await event_in_a_series(services, reminders=[1440, 120])
    await signed_in(services, client)
    edit = f"/organiser/events/{event.id}/edit"
    form = await client.get(edit)
    assert form.status_code == 200
    said = text_of(form)
    assert f"Tomt: seriens medarrangör (nu {PARTNER})." in said
    assert "Tomt: seriens påminnelser (nu 24 timmar, 2 timmar före start)." in said
    values = form_fields(form, edit)
    assert values["host"] == ""
    assert values["reminder_offsets"] == ""

    saved = await client.post(edit, data=values)
    assert saved.status_code == 303, text_of(saved)
    async with services.transaction() as session:
        kept = await session.get_one(Event, event.id)
        assert (kept.host, kept.reminder_offsets) == ("", None)
    said = text_of(await client.get(f"/organiser/events/{event.id}"))
    assert f"Medarrangör {PARTNER} (från serien)" in said
    assert "Påminnelser 24 timmar, 2 timmar före start (från serien)" in said

    # Still following: the series' new co-host is the event's.
    async with services.transaction() as session:
        await session.execute(update(Series).values(host="Regionnätverket"))
    said = text_of(await client.get(f"/organiser/events/{event.id}"))
    assert "Medarrangör Regionnätverket (från serien)" in said
