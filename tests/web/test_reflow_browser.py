"""No page is wider than a phone's screen (issue 10, item 9; WCAG 2.1 1.4.10 Reflow).

One walk in headless Chromium at 320 and 375 CSS pixels over every page a person reaches,
read off the app's own route table so a new page is walked too: the public pages, every
organiser page (signed in as an admin) and the local mailbox, in their main states: a
booking just made, a seat, a place in line, a cancelled booking and a cancelled event, a
form with errors, a long Swedish title, venue and link. Nothing may reach past the right
edge of the screen, except inside a box that scrolls or clips on its own (a wide table).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.routing import Route

from events.schedule import create_series
from foundation.services import Services
from foundation.timestamps import utcnow
from guide import proposals
from guide.catalogue import link_example
from lunchkafe.app import create_app
from lunchkafe.demo import load_demo
from mail.mailbox import LocalMailbox
from mail.models import Audience, OutboxMessage
from notices.delivery import deliver_due
from registrations.feeds import feed_for, feed_token
from registrations.messaging import send_message
from registrations.models import RegistrationStatus
from registrations.organising import cancel_event
from tests.browser import Visitor, fill_booking
from tests.conftest import SECRET
from tests.factories import (
    SOON,
    book,
    cancel,
    mailed_manage_token,
    make_event,
    person,
    registration_of,
)
from tests.signing_in import PASSWORD, add

pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)

WIDTHS = (320, 375)
LONG_TITLE = (
    "Samhällsbyggnadsförvaltningarnas kompetensförsörjningsutmaningar: "
    "landsbygdsutvecklingsstrategier i Norrbottens inlandskommuner"
)
LONG_VENUE = "Kommunstyrelsesammanträdesrummet, Storgatan 1, 980 60 Korpilombolo"
LONG_LINK = "https://meet.example.se/" + "kompetensforsorjning-" * 6
ADMIN = "anna@myndigheten.example.se"
# What reaches past the right edge outside any box that scrolls or clips on its own.
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const over = (el) => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && box.right > width + 0.5;
    };
    const contained = (node) => {
        for (let up = node.parentElement; up && up !== document.body; up = up.parentElement)
            if (getComputedStyle(up).overflowX !== "visible") return true;
        return false;
    };
    // The innermost culprits: elements past the edge none of whose children are.
    const found = [...document.body.querySelectorAll("*")]
        .filter((el) => over(el) && !contained(el) && ![...el.children].some(over))
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} ends at `
            + `${Math.round(el.getBoundingClientRect().right)}: ${el.textContent.slice(0, 40)}`);
    // Text runs past its own box when a word is too long to break: measure the text too.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        if (!text.textContent.trim() || contained(text)) continue;
        range.selectNodeContents(text);
        const right = Math.max(0, ...[...range.getClientRects()].map((r) => r.right));
        if (right > width + 0.5)
            found.push(`text in ${text.parentElement.tagName.toLowerCase()}.`
                + `${text.parentElement.className} ends at ${Math.round(right)}: `
                + text.textContent.trim().slice(0, 40));
    }
    if (document.documentElement.scrollWidth > width)
        found.unshift(`the page is ${document.documentElement.scrollWidth} px wide`);
    return found.slice(0, 6);
}"""


@dataclass
class Site:
    """The ids and tokens that fill the route table's parameters."""

    event_id: int
    cancelled_event_id: int
    series_slug: str
    series_id: int
    manage: dict[str, str]  # state → manage token
    feed: str
    send_id: int
    outbox_id: int
    account_id: int
    message_id: str
    proposal_id: int = 0  # a proposal to the guide ('Dela med dig') with long words
    open_event_id: int = 0  # seats free: a booking there confirms a seat


async def build_site(services: Services) -> Site:
    await load_demo(services, only_if_empty=False)
    admin = await add(services, ADMIN, role="admin")
    async with services.transaction() as session:
        series = await create_series(session, slug="kompetens", title=LONG_TITLE)
    event = await make_event(
        services,
        title=LONG_TITLE,
        summary=LONG_TITLE,
        description=f"Läs mer på {LONG_LINK} före mötet.",
        venue=LONG_VENUE,
        join_url=LONG_LINK,
        capacity=1,
        series_slug="kompetens",
        starts_at=SOON + timedelta(days=1),
        ends_at=SOON + timedelta(days=1, hours=1),
    )
    confirmed = await book(services, event.id, 1)
    waitlisted = await book(services, event.id, 2)
    gone = await book(services, event.id, 3)
    await cancel(services, gone.manage_token)
    cancelled_event = await make_event(services, title=LONG_TITLE, venue=LONG_VENUE)
    open_event = await make_event(
        services,
        title=LONG_TITLE,
        summary=LONG_TITLE,
        description=f"Läs mer på {LONG_LINK} före mötet.",
        venue=LONG_VENUE,
        join_url=LONG_LINK,
        capacity=50,
        starts_at=SOON + timedelta(days=2),
        ends_at=SOON + timedelta(days=2, hours=1),
    )
    told = await book(services, cancelled_event.id, 4)
    async with services.transaction() as session:
        await cancel_event(session, cancelled_event.id, note="Talaren är sjuk.")
        send = await send_message(
            session,
            event.id,
            subject=LONG_TITLE,
            body=f"Hej!\n\nLänken: {LONG_LINK}",
            audience=Audience.ALL,
        )
        feed = await feed_for(session, person(1).email, SECRET)
        # The answer to a booking lists the event's examples from the guide.
        await link_example(
            session, event_id=open_event.id, example_slug="ystad-regional-karna", note="Läs"
        )
        proposal = await proposals.submit(
            session,
            proposals.validate_proposal(
                title=LONG_TITLE,
                organisation=LONG_VENUE,
                summary=f"{LONG_TITLE}\n{LONG_LINK}",
                body=LONG_LINK,
                contact_name="Åsa Öberg",
                contact_email="kompetensforsorjningsansvarig@inlandskommunerna.example.se",
                consent=True,
                language="sv",
            ),
            utcnow(),
        )
    await deliver_due(services)
    async with services.transaction() as session:
        outbox_id = await session.scalar(select(OutboxMessage.id).limit(1))
    mailbox = LocalMailbox(services.settings.mailbox_dir)
    longest = max(await asyncio.to_thread(mailbox.list), key=lambda entry: len(entry.subject))
    tokens = {
        "confirmed": confirmed.manage_token,
        "waitlisted": waitlisted.manage_token,
        "cancelled": gone.manage_token,
        "event cancelled": told.manage_token,
    }
    assert all(tokens.values())
    assert outbox_id is not None
    return Site(
        event_id=event.id,
        cancelled_event_id=cancelled_event.id,
        series_slug="kompetens",
        series_id=series.id,
        manage={state: str(token) for state, token in tokens.items()},
        feed=feed_token(feed, SECRET),
        send_id=send.id,
        outbox_id=outbox_id,
        account_id=admin.id,
        message_id=longest.id,
        proposal_id=proposal.id,
        open_event_id=open_event.id,
    )


def pages(services: Services, site: Site) -> list[str]:
    """Every page of the route table (GET, HTML), each parameter filled from `site`, and
    the extra states of the pages that have several."""
    fill = {
        "event_id": site.event_id,
        "slug": site.series_slug,
        "series_id": site.series_id,
        "send_id": site.send_id,
        "outbox_id": site.outbox_id,
        "account_id": site.account_id,
        "message_id": site.message_id,
        "token": site.manage["confirmed"],
        "proposal_id": site.proposal_id,
        # The guide's editor, with the demo's material.
        "example": "ystad-regional-karna",
        "tip": "hitta-gemensamma-mal-och-resurser",
        "process": "platsutveckling-i-sex-steg",
        "challenge": "samhallsplanering",
    }
    found = []
    for route in create_app(services.settings, services).routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if route.path.startswith(("/api/v1/organiser", "/healthz", "/readyz", "/favicon")):
            continue
        if re.search(r"\.(ics|csv|xlsx|json)$", route.path) or "openapi" in route.path:
            continue
        path = re.sub(r"\{([a-z_]+)(?::[a-z]+)?\}", lambda m: str(fill[m.group(1)]), route.path)
        if route.path.startswith("/api/") and not route.path.endswith("/docs"):
            continue
        if route.path.startswith("/feeds/{token}"):
            path = f"/feeds/{site.feed}"
        if route.path == "/organiser/password/{token}":
            path = "/organiser/password/no-such-link"
        # The guide's pages are walked with the demo's material, not a series' slug (a 404).
        path = GUIDE_PAGES.get(route.path, path)
        found.append(path)
    found += [f"/manage/{token}" for token in site.manage.values()]
    found += [
        f"/manage/{site.manage['cancelled']}?done=cancelled",
        f"/events/{site.cancelled_event_id}",
        "/?lang=en",
        f"/events/{site.event_id}?lang=en",
        "/no-such-page",
        f"/organiser/events/{site.cancelled_event_id}",
        "/?challenge=lokal-utveckling",
        "/?efter=2000-01-01T00:00:00Z,1",  # a later page of the calendar: links both ways
        "/guide?challenge=samhallsplanering",
    ]
    return found


# The demo's longest material of each kind of guide page.
GUIDE_PAGES = {
    "/guide/{slug:slug}": "/guide/ystad-regional-karna",
    "/guide/tips/{slug:slug}": "/guide/tips/hitta-gemensamma-mal-och-resurser",
    "/guide/processes/{slug:slug}": "/guide/processes/platsutveckling-i-sex-steg",
    "/guide/challenges/{slug:slug}": "/guide/challenges/samhallsplanering",
}


async def overflowing(page: object, path: str) -> list[str]:
    # A heading can be visible before the stylesheet has loaded; measured then, the page is
    # unstyled and a long word has nothing telling it to wrap (a CI run failed on exactly that).
    await page.wait_for_load_state("load")  # type: ignore[attr-defined]
    found: list[str] = await page.evaluate(OVERFLOW)  # type: ignore[attr-defined]
    return [f"{path}: {what}" for what in found]


async def test_no_page_is_wider_than_a_phone(
    services: Services, mailbox_server: str, mailbox_visitor: Visitor
) -> None:
    site = await build_site(services)
    paths = pages(services, site)
    assert len(paths) > 50, paths
    wide: list[str] = []
    for width in WIDTHS:
        viewport = {"width": width, "height": 700}
        visitor_page = await mailbox_visitor.page(viewport=viewport)
        # As a visitor: the event page, its form with errors, and the receipt after booking.
        await visitor_page.goto(f"{mailbox_server}/events/{site.event_id}")
        wide += await overflowing(visitor_page, f"{width}px event page")
        await visitor_page.get_by_role("button", name="Ställ mig i kö").click()
        await visitor_page.get_by_role("heading", name="Det finns fel i formuläret").wait_for()
        wide += await overflowing(visitor_page, f"{width}px form with errors")
        await fill_booking(visitor_page, LONG_TITLE[:60], f"kompetens.{width}@kommun.example.se")
        await visitor_page.get_by_role("button", name="Ställ mig i kö").click()
        await visitor_page.wait_for_url(re.compile(r"/received$"))
        wide += await overflowing(visitor_page, f"{width}px after joining the waiting list")
        # A confirmed seat: the answer to the booking, then the booking's own page ("Din
        # bokning") from the link in the confirmation, with the time, place and meeting link.
        email = f"plats.{width}@kommun.example.se"
        await visitor_page.goto(f"{mailbox_server}/events/{site.open_event_id}")
        await fill_booking(visitor_page, LONG_TITLE[:60], email)
        await visitor_page.get_by_role("button", name="Boka plats").click()
        await visitor_page.wait_for_url(re.compile(r"/received$"))
        seat = await registration_of(services, site.open_event_id, email)
        assert seat.status == RegistrationStatus.CONFIRMED
        wide += await overflowing(visitor_page, f"{width}px after booking a seat")
        token = await mailed_manage_token(services, site.open_event_id, email)
        await visitor_page.goto(f"{mailbox_server}/manage/{token}")
        await visitor_page.get_by_role("heading", name="Din bokning").wait_for()
        assert LONG_LINK in await visitor_page.content()  # the meeting link is on it
        wide += await overflowing(visitor_page, f"{width}px the seat's own page")

        organiser = await mailbox_visitor.page(viewport=viewport)
        await organiser.goto(f"{mailbox_server}/organiser/login")
        await organiser.fill("input[name=email]", ADMIN)
        await organiser.fill("input[name=password]", PASSWORD)
        await organiser.click("button[type=submit]")
        await organiser.wait_for_url(f"{mailbox_server}/organiser/")
        for path in paths:
            answer = await organiser.goto(f"{mailbox_server}{path}")
            assert answer is not None
            assert answer.status < 500, (path, answer.status)
            wide += await overflowing(organiser, f"{width}px {path} ({answer.status})")
    assert wide == [], "\n".join(wide)
