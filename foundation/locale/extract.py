"""Refresh the message catalogue: `.venv/bin/python -m foundation.locale.extract`.

Message ids are the Swedish texts. Babel's own extractor, configured by `babel.cfg` (as
`pybabel extract -F babel.cfg .` would), finds them all: `_()`, `ngettext()` and the other
gettext calls in templates and Python, and `N_()` (foundation.errors), which marks a text in
Python that is translated later, where it is shown: domain errors' messages, field errors,
the MSG_* constants.

Then every `<language>/LC_MESSAGES/messages.po` is updated from the template, keeping its
translations: new texts arrive untranslated (or fuzzy, with a guess) and the i18n tests
fail until someone translates them, or until the catalogue is refreshed after a text changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent
ROOT = LOCALE_DIR.parent.parent
TEMPLATE = LOCALE_DIR / "messages.pot"
TRANSLATED = ("en",)


def extract_messages(root: Path = ROOT) -> Catalog:
    """The catalogue template: what Babel's extractor finds with babel.cfg."""
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
