"""The packages form one-way layers (README, "Architecture"; issue 8), and test modules stand
alone (issue 8, item 7).

Every import in every module, those inside functions included, is read from the source.
A package may import only packages in lower layers; packages in the same layer do not import
each other; and route adapters (`web/`) never import one another, so each page's handler
stands on the domains alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. Packages in one layer may not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("templates",),  # the page and mail templates and static files, found beside the code
    ("foundation",),  # settings, database, time, i18n, HTTP rules, templates, caches
    ("mail",),  # the outbox and transports, below every domain that writes to it
    ("events",),  # series and events, whether one is open for booking, iCalendar
    ("guide",),  # the development guide and the links from events
    ("registrations",),  # booking, waitlist, feeds, reminders, what pages read in one call
    ("organisers",),  # accounts, roles, sessions, access tokens, the audit log
    ("notices",),  # what each mail says, and delivering it
    ("web", "workers"),  # route adapters; background jobs
    ("migrations",),  # Alembic, and the models of every package it keeps
    ("lunchkafe",),  # wiring: the app, the command line, the demo
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
# Not part of the running service: nothing in a layer may import them.
OUTSIDE = {"tests", "bench", "scripts"}


def imports_of(source: str) -> Iterator[tuple[int, str]]:
    """(line, module) for every module `source` imports, `from a import b` as `a` and `a.b`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports hide the layer they reach"
            assert node.module is not None
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(package: str, module: str, source: str) -> list[str]:
    """What in `source` (module `module` of `package`) breaks the layers, one line each."""
    found: dict[int, str] = {}  # one per import statement
    for line, imported in imports_of(source):
        if line in found:
            continue
        target = imported.split(".")[0]
        if target in OUTSIDE or target == "importlib" or imported == "builtins.__import__":
            found[line] = f"{module}:{line} imports {imported}, which the layers cannot see"
            continue
        if target not in RANK or target == package:
            if package == "web" and target == "web" and module != "web" and imported != "web":
                found[line] = f"{module}:{line} imports {imported}: adapters stand alone"
            continue
        if RANK[target] >= RANK[package]:
            found[line] = f"{module}:{line} imports {imported}, a layer not below {package}"
    return list(found.values())


def modules() -> Iterator[tuple[str, str, Path]]:
    for package in RANK:
        for path in sorted((ROOT / package).rglob("*.py")):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield package, dotted.removesuffix(".__init__"), path


def test_every_package_is_in_a_layer() -> None:
    packages = {
        p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"
    }
    assert packages - {"bench", "scripts"} == set(RANK)


def test_layers_point_one_way() -> None:
    found = [
        v
        for package, module, path in modules()
        for v in violations(package, module, path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    ("package", "module", "source"),
    [
        ("events", "events.models", "from registrations.models import Registration\n"),
        ("foundation", "foundation.rendering", "def f():\n    import events.links\n"),
        ("web", "web.booking_pages", "from workers import jobs\n"),
        ("workers", "workers.jobs", "from web.event_pages import home\n"),
        ("web", "web.booking_pages", "from web import event_pages\n"),
        ("mail", "mail.outbox", "from notices.compose import compose\n"),
        ("events", "events.models", "from tests.factories import make_event\n"),
        ("foundation", "foundation.services", "import importlib\n"),
        ("migrations", "migrations.env", "from lunchkafe.models import Base\n"),
        ("guide", "guide.catalogue", "from registrations.listing import published_events\n"),
        ("templates", "templates", "from foundation.settings import Settings\n"),
    ],
    ids=[
        "domain-up",
        "local-import",
        "web-workers",
        "workers-web",
        "adapter-adapter",
        "outbox-up",
        "into-tests",
        "importlib",
        "migrations-wiring",
        "guide-registrations",
        "templates-up",
    ],
)
def test_a_reversed_import_is_caught(package: str, module: str, source: str) -> None:
    assert len(violations(package, module, source)) == 1


def test_imports_downward_pass() -> None:
    source = "from foundation.services import services\nfrom events import links\n"
    assert violations("web", "web.event_pages", source) == []


# --- the tests themselves --------------------------------------------------------------------
# What several test modules share lives in helper modules at the top of tests/ (conftest.py,
# factories.py, calendars.py, feeds.py, browser.py, processes.py, databases.py, ports.py,
# statements.py, guide_search.py, guide_proposals.py),
# never in a test module that others import: a test module is for pytest to collect, and
# importing one runs its module-level set-up and brings its tests along under another name.


def imports_of_test_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) for each import in `source` that reaches a test module under tests/."""
    found: dict[int, str] = {}
    for line, imported in imports_of(source):
        parts = imported.split(".")
        if parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:]):
            found.setdefault(line, imported)
    return sorted(found.items())


def test_no_test_module_imports_another() -> None:
    tests = ROOT / "tests"
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in sorted(tests.rglob("*.py"))
        if "node_modules" not in path.parts
        for line, imported in imports_of_test_modules(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "from tests.events.test_calendar import read_ical\n",
        "from tests.web import test_pages_browser\n",
        "import tests.web.test_api\n",
        "def f():\n    from tests.events.test_feeds import parsers\n",
    ],
)
def test_an_import_of_a_test_module_is_caught(source: str) -> None:
    assert len(imports_of_test_modules(source)) == 1


def test_helper_imports_pass() -> None:
    source = "from tests.calendars import Parsers\nfrom tests.conftest import SECRET\n"
    assert imports_of_test_modules(source) == []
