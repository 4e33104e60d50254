"""Every mail names who runs the service (issue 13): each composer that renders the mail
templates hands them notices.signature, so no kind of mail is sent without the footer."""

from __future__ import annotations

import ast
from pathlib import Path

NOTICES = Path(__file__).resolve().parents[2] / "notices"


def _calls(tree: ast.AST) -> set[str]:
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_every_mail_composer_signs_its_mails() -> None:
    composers = []
    for module in sorted(NOTICES.glob("*.py")):
        called = _calls(ast.parse(module.read_text(encoding="utf-8")))
        if "_environment" in called:  # renders templates/mail/*
            composers.append(module.name)
            assert "signature" in called, f"{module.name} renders mail without the footer"
    assert {"compose.py", "account_mail.py"} <= set(composers)
