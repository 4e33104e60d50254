"""A draft is never public, whatever happens to it (issue 10, item 5).

A property test drives a small world (a series with a draft and a published date, a single
event, a guide example, tip, process and challenge) through random sequences of every action
an organiser or attendee can take: publish, take back to a draft, reschedule, edit, cancel
(refused for a draft), duplicate, delete, link it in the guide (an example, a tip, a process
and a process step's sessions), book, cancel a booking, book the whole series. The draft
starts out linked everywhere in the guide. After every step it reads every public URL
(pages, the API and its unversioned aliases, the public, series, event and personal
calendars, the manage and receipt pages, the guide's example, tip, process and challenge
pages, its search and its API, the public form of /my-data) and checks that no event that
is a draft at that moment, nor one deleted as a draft, shows in any of them: not its page,
not its id in a link or an API answer, not its calendar UID, not its title where no public
event shares it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote_plus

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events import schedule
from events.errors import EventError
from events.models import Event, EventStatus
from foundation.errors import DomainError
from foundation.services import Services
from guide.catalogue import add_challenge, add_example, link_example
from guide.editing import PhaseInput, ProcessInput, StepInput, TipInput, save_process, save_tip
from guide.methods import link_method, link_step_session
from registrations import booking
from registrations.feeds import feed_for, feed_token
from registrations.organising import cancel_event, update_event
from registrations.waitlist import count_confirmed, seat_counts
from tests.conftest import SECRET
from tests.factories import SOON, make_event, person

ACTIONS = (
    "publish",
    "unpublish",
    "reschedule",
    "edit",
    "cancel",
    "duplicate",
    "delete",
    "link_guide",
    "book",
    "cancel_booking",
    "book_series",
)
TARGETS = ("draft", "sibling", "single", "copy")
# The guide search of the public URLs: the drafts' title in lower case (the page repeats
# the query; a draft's title is "Hemligt utkast 0001"), which the world's example holds.
SEARCH = "hemligt utkast"


@dataclass
class World:
    """One example's events and what the attendees hold; titles carry the example's number so
    an earlier example's events never stand in for this one's."""

    number: int
    series_slug: str
    events: dict[str, int]
    example_slug: str
    tip_slug: str
    process_slug: str
    challenge_slug: str
    tokens: list[str] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    deleted: list[tuple[int, str]] = field(default_factory=list)  # (id, uid) deleted as drafts
    copies: list[int] = field(default_factory=list)


_counter = {"n": 0}


async def make_world(services: Services) -> World:
    _counter["n"] += 1
    n = _counter["n"]
    slug = f"serie-{n}"
    async with services.transaction() as session:
        await schedule.create_series(session, slug=slug, title=f"Serie {n}")
        await add_challenge(session, slug=f"utmaning-{n}", name=f"Utmaning {n}")
        # Its words are those of /guide?q= (SEARCH), so the search finds it.
        await add_example(
            session,
            slug=f"exempel-{n}",
            title=f"Exempel {n}",
            organisation="Exempelkommun",
            summary="Så hölls ett utkast hemligt.",
            challenge_slugs=[f"utmaning-{n}"],
        )
        await save_tip(
            session,
            TipInput(
                slug=f"tips-{n}",
                number=n,
                title=f"Tips {n}",
                text="Håll utkastet hemligt.",
                examples=[f"exempel-{n}"],
                challenges=[f"utmaning-{n}"],
                published_on=date(2025, 1, 1),
            ),
        )
        await save_process(
            session,
            ProcessInput(
                slug=f"process-{n}",
                title=f"Process {n}",
                phases=[PhaseInput("Förbered", [StepInput("Skriv ett hemligt utkast")])],
                challenges=[f"utmaning-{n}"],
                published_on=date(2025, 1, 1),
            ),
        )
    draft = await make_event(
        services, title=f"Hemligt utkast {n:04d}", series_slug=slug, publish=False
    )
    sibling = await make_event(
        services,
        title=f"Publicerat kafé {n:04d}",
        series_slug=slug,
        starts_at=SOON + timedelta(days=7),
        ends_at=SOON + timedelta(days=7, hours=1),
    )
    single = await make_event(services, title=f"Ensam workshop {n:04d}", publish=False)
    world = World(
        n,
        slug,
        {"draft": draft.id, "sibling": sibling.id, "single": single.id},
        f"exempel-{n}",
        f"tips-{n}",
        f"process-{n}",
        f"utmaning-{n}",
    )
    # The draft, and the sibling beside it, are linked everywhere the guide links sessions.
    async with services.transaction() as session:
        for event_id in (draft.id, sibling.id):
            for link in guide_links(world, event_id):
                await link(session)
    return world


def guide_links(world: World, event_id: int) -> tuple[Callable[[AsyncSession], Any], ...]:
    """Link an event to the world's example, tip and process, and as a session of the
    process' step."""
    return (
        lambda session: link_example(
            session, event_id=event_id, example_slug=world.example_slug, note="Läs"
        ),
        lambda session: link_method(session, event_id=event_id, tip_slug=world.tip_slug),
        lambda session: link_method(session, event_id=event_id, process_slug=world.process_slug),
        lambda session: link_step_session(
            session, process_slug=world.process_slug, step_number=1, event_id=event_id
        ),
    )


async def link_in_guide(services: Services, world: World, event_id: int) -> None:
    """Each of `guide_links` on its own, so one refused (linked already) keeps the others."""
    for link in guide_links(world, event_id):
        try:
            async with services.transaction() as session:
                if await session.get(Event, event_id) is not None:
                    await link(session)
        except DomainError:
            pass


async def _active(session: AsyncSession, event_id: int) -> int:
    confirmed, waiting = (await seat_counts(session, [event_id]))[event_id]
    return confirmed + waiting


async def act(services: Services, world: World, action: str, target: str, step: int) -> None:
    """One action on one of the world's events; a refusal (DomainError) is an outcome too."""
    event_id = world.events.get(target, world.events["draft"])
    attendee = person(world.number * 100 + step)
    if action == "link_guide":
        await link_in_guide(services, world, event_id)
        return
    try:
        async with services.transaction() as session:
            event = await session.get(Event, event_id)
            if event is None:
                return
            if action == "publish":
                await schedule.publish_event(session, event_id)
            elif action == "unpublish":
                await schedule.unpublish_event(session, event_id, count_registrations=_active)
            elif action == "reschedule":
                await update_event(
                    session,
                    event_id,
                    schedule.EventChanges(
                        starts_at=event.starts_at + timedelta(days=1),
                        ends_at=event.ends_at + timedelta(days=1),
                        allow_past=True,
                    ),
                )
            elif action == "edit":
                await schedule.apply_changes(
                    session,
                    event_id,
                    schedule.EventChanges(summary=f"Ändrad i steg {step}", venue="Stockholm"),
                    count_confirmed=count_confirmed,
                )
            elif action == "cancel":
                await cancel_event(session, event_id, note="Vi ses en annan gång.")
            elif action == "duplicate":
                copy = await schedule.duplicate_event(
                    session, event_id, shift=timedelta(weeks=1), site_domain="test.example"
                )
                world.events["copy"] = copy.id
                world.copies.append(copy.id)
            elif action == "delete":
                uid = event.uid
                await schedule.delete_draft(session, event_id)
                world.deleted.append((event_id, uid))
            elif action == "book":
                result = await booking.book(
                    session, event_id=event_id, attendee=attendee, secret_key=SECRET
                )
                world.emails.add(attendee.email)
                if result.manage_token:
                    world.tokens.append(result.manage_token)
            elif action == "cancel_booking":
                if world.tokens:
                    await booking.cancel(session, token=world.tokens[step % len(world.tokens)])
            elif action == "book_series":
                series = await booking.book_series(
                    session, series_slug=world.series_slug, attendee=attendee, secret_key=SECRET
                )
                world.emails.add(attendee.email)
                world.tokens.extend(r.manage_token for r in series.booked if r.manage_token)
    except (DomainError, EventError):
        pass


async def public_urls(services: Services, world: World) -> list[str]:
    """Every public URL there is for the world as it stands, drafts' own addresses included."""
    # This example's own events and series (earlier examples' were checked in theirs).
    ids = sorted({*world.events.values(), *world.copies})
    async with services.transaction() as session:
        feeds = [
            feed_token(await feed_for(session, email, SECRET), SECRET) for email in world.emails
        ]
    urls = ["/", "/?lang=en", "/calendar.ics", "/guide", f"/guide/{world.example_slug}"]
    urls += [
        f"/guide/tips/{world.tip_slug}",
        f"/guide/processes/{world.process_slug}",
        f"/guide/challenges/{world.challenge_slug}",
        f"/guide?q={quote_plus(SEARCH)}",
        "/api/v1/guide/examples",
        "/my-data",
    ]
    urls += ["/api/v1/events", "/api/events", "/api/v1/openapi.json"]
    for event_id in ids:
        urls += [
            f"/events/{event_id}",
            f"/events/{event_id}/event.ics",
            f"/events/{event_id}/received",
            f"/api/v1/events/{event_id}",
            f"/api/events/{event_id}",
        ]
    for slug in (world.series_slug,):
        urls += [f"/series/{slug}", f"/series/{slug}/calendar.ics", f"/series/{slug}/received"]
    for token in world.tokens:
        urls += [f"/manage/{token}", f"/manage/{token}/event.ics"]
    for token in feeds:
        urls += [f"/feeds/{token}.ics", f"/feeds/{token}"]
    return urls


async def assert_no_draft_shows(
    services: Services, client: httpx.AsyncClient, world: World, history: list[str]
) -> None:
    async with services.transaction() as session:
        events = list((await session.scalars(select(Event))).all())
    drafts = [e for e in events if e.status == EventStatus.DRAFT]
    public_titles = {e.title for e in events if e.status != EventStatus.DRAFT}
    hidden = [(e.id, e.uid) for e in drafts] + world.deleted
    titles = [e.title for e in drafts if e.title not in public_titles]
    for url in await public_urls(services, world):
        answer = await client.get(url)
        assert answer.status_code < 500, (url, answer.status_code, history)
        body = answer.text
        # Every event id the body links to, and the body as compact JSON: read once.
        linked = set(re.findall(r"/events/([0-9]+)", body))
        compact = ""
        if answer.headers.get("content-type", "").startswith("application/json"):
            compact = json.dumps(answer.json(), separators=(",", ":"))
        for event_id, uid in hidden:
            own = re.fullmatch(rf"/(?:api/(?:v1/)?)?events/{event_id}(?:/[a-z.]+)?", url)
            if own:
                # Its own addresses answer 404 (whose page names its own URL, to switch language).
                assert answer.status_code == 404, (url, answer.status_code, history)
                continue
            assert uid not in body, (url, "UID of a draft", history)
            assert str(event_id) not in linked, (url, event_id, history)
            assert f'"id":{event_id},' not in compact, (url, event_id, history)
        for title in titles:
            assert title not in body, (url, title, history)


@settings(
    max_examples=10,
    deadline=None,
    # Each example is a whole story; its history is in the failure, so no shrinking.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.sampled_from(TARGETS)), min_size=1, max_size=7
    )
)
async def test_no_draft_is_ever_public_whatever_happens_to_it(
    services: Services, client: httpx.AsyncClient, steps: list[tuple[str, str]]
) -> None:
    world = await make_world(services)
    history: list[str] = []
    await assert_no_draft_shows(services, client, world, history)
    for step, (action, target) in enumerate(steps):
        await act(services, world, action, target, step)
        history.append(f"{action} {target}")
        await assert_no_draft_shows(services, client, world, history)


async def test_cancelled_booking_of_an_event_taken_back_to_a_draft_shows_nothing_of_it(
    services: Services, client: httpx.AsyncClient
) -> None:
    """The path most likely to leak: booked while public, the booking cancelled, the event
    taken back to a draft and renamed. The old manage link and the person's feed show
    nothing of the draft."""
    world = await make_world(services)
    steps = [
        ("publish", "draft"),
        ("book", "draft"),
        ("cancel_booking", "draft"),
        ("unpublish", "draft"),
        ("edit", "draft"),
        ("duplicate", "sibling"),
        ("cancel", "sibling"),
        ("duplicate", "sibling"),
        ("link_guide", "copy"),
        ("reschedule", "copy"),
        ("book_series", "draft"),
    ]
    # The guide's pages show the sessions linked to them: the published sibling is there,
    # where the draft, linked the same way, would be.
    sibling = f'href="/events/{world.events["sibling"]}'
    for page in (
        f"/guide/{world.example_slug}",
        f"/guide/tips/{world.tip_slug}",
        f"/guide/processes/{world.process_slug}",
        f"/guide/challenges/{world.challenge_slug}",
    ):
        assert sibling in (await client.get(page)).text, page
    assert f"/guide/{world.example_slug}" in (await client.get("/guide", params={"q": SEARCH})).text
    history: list[str] = []
    for step, (action, target) in enumerate(steps):
        await act(services, world, action, target, step)
        history.append(f"{action} {target}")
        await assert_no_draft_shows(services, client, world, history)
    async with services.transaction() as session:
        draft = await session.get_one(Event, world.events["draft"])
        assert draft.status == EventStatus.DRAFT
    assert world.tokens, "the booking made a manage link"
    assert (await client.get(f"/manage/{world.tokens[0]}")).status_code == 404
    await act(services, world, "delete", "draft", 99)
    await assert_no_draft_shows(services, client, world, [*history, "delete draft"])
    assert world.deleted
