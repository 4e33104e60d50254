"""Refresh the message catalogue: `.venv/bin/python -m foundation.locale.extract`.

Message ids are the Swedish texts. Two sources make up `messages.pot`:

* what `babel.cfg` extracts, as `pybabel extract -F babel.cfg .` would: `_()`, `ngettext()`
  and the other gettext calls in templates and Python;
* Swedish texts that Python code hands to templates, which translate them with
  `_(message)` where they show them: `HTTPException` details in every module, and in
  `MESSAGE_MODULES` the `MSG_*` constants, error classes' own messages
  (`super().__init__("…")`) and field errors (`errors["field"] = "…"`, `Invalid…({...})`).

Then every `<language>/LC_MESSAGES/messages.po` is updated from the template, keeping its
translations: new texts arrive untranslated (or fuzzy, with a guess) and
`tests/lunchkafe/test_i18n.py` fails until someone translates them.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent
ROOT = LOCALE_DIR.parent.parent
TEMPLATE = LOCALE_DIR / "messages.pot"
TRANSLATED = ("en",)

# Modules whose constants and error dictionaries hold messages pages translate.
MESSAGE_MODULES = (
    "registrations/errors.py",
    "registrations/attendee.py",
    "events/schedule.py",
    "events/rules.py",
    "foundation/csrf.py",
    "foundation/honeypot.py",
    "foundation/text.py",
    "foundation/error_pages.py",
    "foundation/body_limit.py",
)
# Modules searched for HTTPException details: the packages babel.cfg maps.
PACKAGES = (
    "foundation",
    "mail",
    "events",
    "registrations",
    "guide",
    "notices",
    "web",
    "workers",
    "lunchkafe",
)

Found = tuple[str, int, str]  # path relative to ROOT, line, message


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    return None


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _http_details(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node) == "HTTPException":
            detail = node.args[1] if len(node.args) > 1 else None
            for keyword in node.keywords:
                if keyword.arg == "detail":
                    detail = keyword.value
            if (text := _string(detail)) is not None:
                yield node.lineno, text


def _module_messages(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """MSG_* constants, error classes' own messages and field errors."""
    candidates: list[ast.expr] = []
    for statement in tree.body:  # MSG_NAME = "…"
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id.startswith("MSG_")
            for target in statement.targets
        ):
            candidates.append(statement.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Subscript) for target in node.targets
        ):
            candidates.append(node.value)  # errors["field"] = "…"
        elif isinstance(node, ast.Call) and _called_name(node) == "__init__" and node.args:
            candidates.append(node.args[0])  # super().__init__("…")
        elif isinstance(node, ast.Call) and _called_name(node).startswith("Invalid"):
            candidates.extend(  # InvalidEvent({"field": "…"})
                value for arg in node.args if isinstance(arg, ast.Dict) for value in arg.values
            )
    for candidate in candidates:
        if (text := _string(candidate)) is not None:
            yield candidate.lineno, text


def python_messages(root: Path = ROOT) -> Iterator[Found]:
    """Swedish messages Python code passes to templates outside gettext calls."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
            for lineno, text in _http_details(tree):
                yield relative, lineno, text
            if relative in MESSAGE_MODULES:
                for lineno, text in _module_messages(tree):
                    yield relative, lineno, text


def extract_messages(root: Path = ROOT) -> Catalog:
    """The catalogue template: babel.cfg's extraction plus `python_messages`."""
    method_map: list[tuple[str, str]]
    options_map: dict[str, dict[str, str]]
    with (root / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    catalog = Catalog(
        project="Lunchkafé",
        version="0.1.0",
        copyright_holder="Lunchkafé",
        msgid_bugs_address="lunchkafe@localhost",
        charset="utf-8",
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map
    ):
        catalog.add(
            message,
            None,
            [(Path(filename).as_posix(), lineno)],
            auto_comments=comments,
            context=context,
        )
    for filename, lineno, text in python_messages(root):
        catalog.add(text, None, [(filename, lineno)])
    return catalog


def refresh(root: Path = ROOT) -> Catalog:
    """Write messages.pot and bring each language's .po up to date with it."""
    template = extract_messages(root)
    locale_dir = root / LOCALE_DIR.relative_to(ROOT)
    with (locale_dir / "messages.pot").open("wb") as out:
        write_po(out, template, width=100)
    for language in TRANSLATED:
        po_path = locale_dir / language / "LC_MESSAGES" / "messages.po"
        if po_path.exists():
            with po_path.open("rb") as existing:
                catalog = read_po(existing, locale=language)
        else:
            po_path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="Lunchkafé", fuzzy=False)
        catalog.update(template, update_creation_date=False)
        with po_path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True)
    return template


def main() -> int:
    template = refresh()
    print(f"{len(template)} messages in {TEMPLATE.relative_to(ROOT)}", file=sys.stderr)
    for language in TRANSLATED:
        po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as po:
            catalog = read_po(po, locale=language)
        todo = [m for m in catalog if m.id and (m.fuzzy or not all(_strings(m.string)))]
        print(
            f"{language}: {len(todo)} to translate in {po_path.relative_to(ROOT)}", file=sys.stderr
        )
    return 0


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    if isinstance(value, str):
        return (value,)
    return tuple(value)


if __name__ == "__main__":
    raise SystemExit(main())
