"""A real headless Chromium for the tests that use the pages as a visitor does: the browser
(one per test module, loaded through `pytest_plugins` in tests/conftest.py), a visitor whose
every page is a person of their own, filling in the booking form, and axe-core's WCAG 2.1
A/AA rules.

Needs Debian's chromium and the npm package axe-core in tests/js/node_modules:
`bash scripts/test-deps.sh` installs both. Without them the tests that use the browser are
skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from foundation.services import Services
from tests.conftest import uvicorn_serving
from tests.ports import free_port
from tests.signing_in import PASSWORD, add

try:
    from playwright.async_api import Browser, BrowserContext, Page, async_playwright
except ImportError:  # pragma: no cover - playwright is a dev dependency
    async_playwright = None  # type: ignore[assignment]

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Served by page.route at the app's own origin, so the app's CSP (script-src 'self') stays on.
AXE_PATH = "/__axe-core.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RECEIVED = "Tack! Titta i din e-post"  # the heading once a booking is sent


def _missing(what: str) -> None:
    message = f"{what} is missing; `bash scripts/test-deps.sh` installs it"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the whole module; every test gets its own context."""
    if async_playwright is None:
        _missing("the playwright Python package")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"Chromium ({CHROMIUM})")
    if not AXE.is_file():
        _missing(f"axe-core ({AXE})")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Visitor:
    """Opens pages for a test; each page is its own browser context, a person with own cookies."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.browser = browser
        self.base = base
        self.contexts: list[BrowserContext] = []
        self.refused: list[str] = []

    async def page(self, **context_options: Any) -> Page:
        context = await self.browser.new_context(locale="sv-SE", **context_options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        axe_source = AXE.read_text(encoding="utf-8")

        async def serve_axe(route: Any) -> None:
            await route.fulfill(body=axe_source, content_type="application/javascript")

        await context.route(f"{self.base}{AXE_PATH}", serve_axe)
        page = await context.new_page()
        page.on("console", self._note_refusal)
        return page

    def _note_refusal(self, message: Any) -> None:
        # What the Content-Security-Policy blocks is reported on the console as "Refused to".
        if message.type == "error" and "Refused to" in message.text:
            self.refused.append(message.text)

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def fill_booking(page: Page, name: str, email: str) -> None:
    await page.get_by_label("Namn", exact=True).fill(name)
    await page.get_by_label("E-postadress", exact=True).fill(email)
    await page.get_by_label("Jag godkänner att mina uppgifter hanteras enligt ovan.").check()


async def axe_violations(page: Page, base: str) -> list[dict[str, Any]]:
    # Contrast and sizes are only right once the stylesheet has loaded; an element can be
    # visible (what a test waited for) before it has.
    await page.wait_for_load_state("load")
    await page.add_script_tag(url=f"{base}{AXE_PATH}")
    violations: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")),
                summary: v.nodes.map(n => n.failureSummary),
            }));
        }""",
        WCAG_TAGS,
    )
    return violations


async def assert_accessible(page: Page, base: str) -> None:
    """No axe-core violation (WCAG 2.1 AA) on the page as it is now."""
    violations = await axe_violations(page, base)
    assert violations == [], (page.url, violations)


async def signed_in_page(
    visitor: Visitor, services: Services, email: str = "olle@myndigheten.example.se"
) -> Page:
    """A page of its own (own cookies) for a new organiser account `email`, signed in through
    the sign-in form and on the overview."""
    await add(services, email)
    page = await visitor.page()
    await page.goto(f"{visitor.base}/organiser/login")
    await page.get_by_label("E-postadress").fill(email)
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(f"{visitor.base}/organiser/")
    return page


@pytest.fixture
async def mailbox_server(services: Services) -> AsyncIterator[str]:
    """Like `live_server`, with the local mailbox pages on (MAILBOX_PAGES=on, as `make run`
    serves them); yields the base URL."""
    settings = dataclasses.replace(
        services.settings, base_url=f"http://127.0.0.1:{free_port()}", mailbox_pages=True
    )
    async with uvicorn_serving(dataclasses.replace(services, settings=settings)) as url:
        yield url


@pytest.fixture
async def mailbox_visitor(browser: Browser, mailbox_server: str) -> AsyncIterator[Visitor]:
    """A `visitor` of `mailbox_server`; the test fails if the CSP blocked anything."""
    made = Visitor(browser, mailbox_server)
    try:
        yield made
    finally:
        await made.close()
    assert made.refused == [], "the Content-Security-Policy blocked part of a page"


@pytest.fixture
async def visitor(browser: Browser, live_server: str) -> AsyncIterator[Visitor]:
    """A visitor of the test's live server (tests/conftest.py); the test fails if the
    Content-Security-Policy blocked any part of a page it opened."""
    made = Visitor(browser, live_server)
    try:
        yield made
    finally:
        await made.close()
    assert made.refused == [], "the Content-Security-Policy blocked part of a page"
