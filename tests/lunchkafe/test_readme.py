"""The README stays true: it starts with the two commands and documents every setting."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[2]


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```", 2)[1]
    assert "make run" in first_block
    assert "make test" in first_block


def test_every_environment_variable_is_documented() -> None:
    settings = (ROOT / "foundation" / "settings.py").read_text()
    read = set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z_]+)"', settings))
    read |= set(re.findall(r'_(?:int|duration)\(environ, "([A-Z_]+)"', settings))
    readme = (ROOT / "README.md").read_text()
    assert len(read) >= 15
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert missing == [], f"settings not documented in README.md: {missing}"


def test_every_cli_command_is_documented() -> None:
    from lunchkafe.cli import build_parser

    readme = (ROOT / "README.md").read_text()
    parser = build_parser()
    commands = cast(
        dict[str, argparse.ArgumentParser],
        parser._subparsers._group_actions[0].choices,  # type: ignore[union-attr]
    )
    for name, sub in commands.items():
        assert f"lunchkafe {name}" in readme
        if sub._subparsers is not None:
            for action in sub._subparsers._group_actions[0].choices or ():
                assert f"lunchkafe {name} {action}" in readme, f"{name} {action}"
