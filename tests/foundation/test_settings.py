"""Settings from the environment: URL forms, defaults for `make run`, and clear refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from foundation.settings import ConfigurationError, Settings, normalise_database_url


def settings(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_environ({"VAR_DIR": str(tmp_path), **environ})


@pytest.mark.parametrize(
    "url",
    [
        "postgres://kafe:hemligt@db.example:5432/lunchkafe",
        "postgresql://kafe:hemligt@db.example:5432/lunchkafe",
        "postgresql+asyncpg://kafe:hemligt@db.example:5432/lunchkafe",
    ],
)
def test_postgres_url_forms_all_use_asyncpg(tmp_path: Path, url: str) -> None:
    built = settings(tmp_path, DATABASE_URL=url, SECRET_KEY="k")
    assert built.database_url == "postgresql+asyncpg://kafe:hemligt@db.example:5432/lunchkafe"
    assert not built.is_sqlite


def test_sqlite_url_uses_aiosqlite() -> None:
    assert normalise_database_url("sqlite:////srv/x.db") == "sqlite+aiosqlite:////srv/x.db"
    assert normalise_database_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgres:/oops", "lunchkafe.db"])
def test_unknown_database_url_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        settings(tmp_path, DATABASE_URL=url, SECRET_KEY="k")


def test_defaults_run_on_sqlite_under_var_dir(tmp_path: Path) -> None:
    built = settings(tmp_path)
    assert built.is_sqlite
    assert built.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'lunchkafe.db'}"
    assert built.var_dir == tmp_path.resolve()
    assert built.timezone == "Europe/Stockholm"
    assert built.default_language == "sv"
    assert built.port == 8000
    assert built.base_url == "http://127.0.0.1:8000"
    assert built.redis_url is None
    assert built.smtp_url is None
    assert "180 dagar" in built.privacy_notice  # the retention period, in the notice


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"  # not there yet
    first = settings(var_dir).secret_key
    second = settings(var_dir).secret_key
    assert len(first) >= 32
    assert first == second  # manage links keep working after a restart
    key_file = var_dir / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings(tmp_path / "other").secret_key != first


def test_secret_key_from_environment_wins_and_writes_no_file(tmp_path: Path) -> None:
    assert settings(tmp_path, SECRET_KEY="given").secret_key == "given"
    assert not (tmp_path / "secret_key").exists()
    assert "given" not in repr(settings(tmp_path, SECRET_KEY="given"))


def test_secret_key_is_required_with_postgres(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        settings(tmp_path, DATABASE_URL="postgres://u@h/db")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        settings(tmp_path, DATABASE_URL="postgres://u@h/db", SECRET_KEY="")
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "80.5"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("TIMEZONE", "Europe/Lund"),
        ("TIMEZONE", "../../etc/passwd"),
        ("DEFAULT_LANGUAGE", "de"),
        ("BASE_URL", "lunchkafe.example.se"),
        ("BASE_URL", "ftp://lunchkafe.example.se"),
        ("RETENTION_DAYS", "ett halvår"),
        ("SMTP_CONNECTIONS", "0"),
        ("SMTP_CONNECTIONS", "33"),
        ("SMTP_CONNECTIONS", "fyra"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings(tmp_path, SECRET_KEY="k", **{name: value})


def test_given_values_are_used(tmp_path: Path) -> None:
    built = settings(
        tmp_path,
        SECRET_KEY="k",
        PORT="9000",
        TIMEZONE="Europe/Helsinki",
        DEFAULT_LANGUAGE="en",
        BASE_URL="https://kafe.example.se/",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SMTP_URL="smtp://127.0.0.1:25",
        RETENTION_DAYS="120",
        SMTP_CONNECTIONS="1",
    )
    assert built.port == 9000
    assert built.smtp_connections == 1
    assert built.timezone == "Europe/Helsinki"
    assert built.tz.key == "Europe/Helsinki"
    assert built.default_language == "en"
    assert built.base_url == "https://kafe.example.se"  # no trailing slash
    assert built.site_domain == "kafe.example.se"
    assert built.redis_url == "redis://127.0.0.1:6379/0"
    assert built.smtp_url == "smtp://127.0.0.1:25"
    assert built.retention_days == 120
    assert "120 dagar" in built.privacy_notice
    # BASE_URL defaults from PORT when unset.
    assert settings(tmp_path, SECRET_KEY="k", PORT="9001").base_url == "http://127.0.0.1:9001"


@pytest.mark.parametrize("days", ["1", "30", "89"])
def test_personal_data_is_kept_as_long_as_the_feeds_show_an_event(
    tmp_path: Path, days: str
) -> None:
    """Anonymising a booking takes it out of a personal feed, and nothing stamps that moment:
    a retention shorter than the feeds keep an ended event (events.feeds.PAST_KEPT) would
    change a feed's bytes without moving its Last-Modified."""
    with pytest.raises(ConfigurationError, match="RETENTION_DAYS must be at least 90") as refused:
        settings(tmp_path, RETENTION_DAYS=days)
    assert "calendar feeds" in str(refused.value)
    assert settings(tmp_path, RETENTION_DAYS="90").retention_days == 90


def test_mail_that_reaches_people_needs_the_sites_base_url(tmp_path: Path) -> None:
    """Read once for every process that makes mail, the web process sending its own without
    Redis and `arq workers.settings.WorkerSettings` included: with SMTP_URL and no BASE_URL,
    every link would point to the development default."""
    with pytest.raises(ConfigurationError, match="BASE_URL is not set") as refused:
        settings(tmp_path, SMTP_URL="smtp://mail.example.se:25", PORT="8100")
    assert "http://127.0.0.1:8100" in str(refused.value)  # what the links would have said
    with pytest.raises(ConfigurationError, match="BASE_URL is not set"):
        settings(tmp_path, SMTP_URL="smtp://mail.example.se:25", BASE_URL="  ")
    given = settings(tmp_path, SMTP_URL="smtp://mail.example.se:25", BASE_URL="https://k.se")
    assert given.base_url == "https://k.se"
    assert settings(tmp_path).smtp_url is None  # the local mailbox: development, no BASE_URL


def test_the_asgi_app_and_the_arq_worker_refuse_without_base_url(tmp_path: Path) -> None:
    """The entry points that read the environment themselves: uvicorn's `lunchkafe.asgi:app`
    and arq's worker startup, which sends mail too."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(VAR_DIR=str(tmp_path), SMTP_URL="smtp://mail.example.se:25")
    for code in (
        "import lunchkafe.asgi",
        "import asyncio; from workers.settings import startup; asyncio.run(startup({}))",
    ):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert done.returncode != 0, code
        assert "configuration error: BASE_URL is not set" in done.stderr, (code, done.stderr)
        assert "Traceback" not in done.stderr, code
