"""Commands that queue or send mail refuse to run without the site's BASE_URL once mail
reaches people (SMTP_URL set), instead of building every link from the development default
http://127.0.0.1:8000 (issue 10, item 11). Development (the local mailbox) runs as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET

LUNCHKAFE = Path(sys.executable).parent / "lunchkafe"
MAILING = [
    ["mail", "deliver"],
    ["mail", "remind", "1"],
    ["mail", "message", "1", "--subject", "Hej", "--body", "Välkomna"],
    ["events", "update", "1", "--title", "Nytt namn", "--yes"],
    ["events", "cancel", "1", "--yes"],
    ["organisers", "add", "olle@example.se", "--name", "Olle", "--invite"],
]


def run(args: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.db'}",
        SECRET_KEY=SECRET,
        VAR_DIR=str(tmp_path / "var"),
        **extra,
    )
    return subprocess.run(
        [str(LUNCHKAFE), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("args", MAILING, ids=[" ".join(a[:2]) for a in MAILING])
def test_mail_commands_refuse_without_base_url_when_mail_goes_out(
    args: list[str], tmp_path: Path
) -> None:
    done = run(args, tmp_path, SMTP_URL="smtp://mail.example.se:25")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("lunchkafe: configuration error:"), done.stderr
    assert "BASE_URL" in done.stderr
    assert "http://127.0.0.1:8000" in done.stderr  # what the links would have said
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "site.db").exists()  # refused before anything was touched


def test_with_base_url_or_in_development_they_run(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    # SMTP_URL without BASE_URL is refused by every command alike (read once, in
    # foundation.settings), those that send nothing too: they share the mailing ones' setup.
    listed = run(["events", "list"], tmp_path, SMTP_URL="smtp://mail.example.se:25")
    assert listed.returncode == 2, listed.stderr
    assert "BASE_URL is not set" in listed.stderr
    # The local mailbox (no SMTP_URL) is development: the default is fine there.
    assert run(["mail", "deliver"], tmp_path).returncode == 0
    # An SMTP server that nothing listens on: the command runs, and the mail waits.
    port_closed = "smtp://127.0.0.1:9?timeout=1"
    sent = run(
        ["mail", "deliver"], tmp_path, SMTP_URL=port_closed, BASE_URL="https://kafe.example.se"
    )
    assert sent.returncode == 0, sent.stderr


def test_the_worker_refuses_too(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.db'}",
        SECRET_KEY=SECRET,
        VAR_DIR=str(tmp_path / "var"),
        SMTP_URL="smtp://mail.example.se:25",
    )
    done = subprocess.run(
        [sys.executable, "-m", "workers.run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2, done.stderr
    assert "BASE_URL is not set" in done.stderr
