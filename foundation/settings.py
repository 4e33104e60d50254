"""One typed settings object, read once from the environment and passed down."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import RateLimitItem, parse_many

# The same words stand in templates/macros.html, where pages translate them.
DEFAULT_PRIVACY_NOTICE = (
    "%(controller)s sparar ditt namn och din e-postadress, din organisation och din kommun "
    "eller region om du skriver dem, och vilket språk du bokar på, för att skicka "
    "kalenderinbjudan, påminnelser och ändringar om evenemanget och för att arrangörerna ska "
    "veta vilka som kommer. Uppgifterna raderas senast %(days)d dagar efter evenemanget."
)


# Generous, because many officials of one municipality book from one shared outgoing
# address: thirty colleagues in a minute still get through, a script gets thirty a minute.
DEFAULT_BOOKING_RATE_LIMIT = "30/minute;300/hour"
# One person books a term's single events in one sitting; a series form counts once.
DEFAULT_BOOKING_RATE_LIMIT_PER_EMAIL = "10/minute;60/day"
# Failed sign-ins: a person mistyping a few times is never held back; guessing is.
DEFAULT_SIGN_IN_RATE_LIMIT = "20/minute;200/day"
DEFAULT_SIGN_IN_RATE_LIMIT_PER_ACCOUNT = "5/minute;30/hour"


# SMTP connections one delivery run keeps open. Each carries one message at a time, so after
# a crash at most this many messages (those on the wire) can arrive twice. One by default:
# at most the one message in flight; more is faster only through a slow relay.
DEFAULT_SMTP_CONNECTIONS = 1
# Who runs the site, for `make run`'s demo: a fictional agency and network, no real people,
# addresses under example.se (RFC 2606 reserves example.* for documentation; .se's registry
# holds example.se likewise). Production sets its own (README: Configuration).
DEMO_AGENCY_NAME = "Myndigheten för regional utveckling (demo)"
DEMO_AGENCY_EMAIL = "lunchkafe@regionalutveckling.example.se"
DEMO_AGENCY_ADDRESS = "Box 1234, 123 45 Exempelstad"
DEMO_DPO_EMAIL = "dataskyddsombud@regionalutveckling.example.se"
DEMO_PARTNER_NETWORK = "Landsbygdsnätverket (demo)"
# The supervisory authority for the law on accessible digital public services (lag
# 2018:1937, 15 §; förordning 2018:1938, 16 §: Myndigheten för digital förvaltning, Digg) takes
# reports of inaccessible sites here.
DIGG_REPORT_URL = (
    "https://www.digg.se/analys-och-uppfoljning/lagen-om-tillganglighet-till-digital-offentlig"
    "-service-dos-lagen/anmal-bristande-tillganglighet"
)

# How long calendar feeds keep an event after it ended (events.feeds.PAST_KEPT; here so that
# RETENTION_DAYS is held to it: anonymising a booking takes it out of a personal feed, and
# nothing stamps that moment, so within this window the feed's Last-Modified would not move).
FEEDS_KEEP_ENDED_DAYS = 90
MAX_SMTP_CONNECTIONS = 32

# LOG_FORMAT: readable lines for a person at a terminal, or one JSON object per line for a
# log pipeline (foundation.logs).
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Query parameters of a URL whose values are secrets (asyncpg and redis take `password=`).
_SECRET_QUERY = ("pass", "secret", "token", "key")


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, repr=False)
class Settings:
    database_url: str
    redis_url: str | None
    smtp_url: str | None
    base_url: str
    secret_key: str = field(repr=False)
    mail_from: str
    organiser_email: str
    timezone: str
    default_language: str
    port: int
    var_dir: Path
    site_name: str
    retention_days: int
    custom_privacy_notice: str | None
    reminder_offsets: tuple[int, ...] = (24 * 60, 60)
    reminder_grace: timedelta = timedelta(minutes=30)
    follow_up_after: timedelta = timedelta(hours=2)
    # Days after which a settled outbox row (sent, failed, skipped) loses its recipient and
    # what its payload held, and an audit entry is deleted (registrations.retention).
    outbox_retention_days: int = 30
    audit_retention_days: int = 730
    # Days after it was sent that a proposal to the guide nobody has decided is deleted
    # (a decided one goes RETENTION_DAYS after its decision).
    proposal_retention_days: int = 365
    # The local mailbox pages show every attendee's mail and manage link: development only.
    mailbox_pages: bool = False
    # Every limit that applies to bookings from one client address, and to one booked
    # e-mail address; an empty tuple is `off`.
    booking_rate_limit: tuple[RateLimitItem, ...] = ()
    booking_rate_limit_per_email: tuple[RateLimitItem, ...] = ()
    sign_in_rate_limit: tuple[RateLimitItem, ...] = ()
    sign_in_rate_limit_per_account: tuple[RateLimitItem, ...] = ()
    # An organiser's session ends after this long without a request, and after
    # SESSION_MAX_AGE whatever happens.
    session_idle: timedelta = timedelta(hours=1)
    session_max_age: timedelta = timedelta(hours=12)
    smtp_connections: int = DEFAULT_SMTP_CONNECTIONS
    # Whether the relay (or the local mailbox, standing in for it) takes SMTPUTF8 (RFC 6531):
    # only then is an address with a local part beyond ASCII accepted (mail/addresses.py).
    smtp_utf8: bool = False
    log_format: str = "text"
    log_level: str = "INFO"
    # Who runs the site (GDPR art. 13.1 a–b; lag 2018:1937, 16 §): shown in every page's
    # footer and every mail, on the "Om tjänsten", privacy and accessibility pages.
    agency_name: str = DEMO_AGENCY_NAME
    agency_email: str = DEMO_AGENCY_EMAIL
    agency_address: str = DEMO_AGENCY_ADDRESS  # postal; "" for none
    data_controller: str = DEMO_AGENCY_NAME  # personuppgiftsansvarig
    dpo_email: str = DEMO_DPO_EMAIL  # dataskyddsombud (GDPR art. 37–39)
    partner_network: str = DEMO_PARTNER_NETWORK  # "" for none
    accessibility_report_url: str = DIGG_REPORT_URL
    # Operations (README: Operating it): /metrics answers only to this bearer token, and is
    # off (404) without it; a worker serves its own on WORKER_METRICS_PORT when set; with
    # PROMETHEUS_MULTIPROC_DIR (prometheus-client's own variable) every process on the host
    # writes there and /metrics sums them.
    metrics_token: str | None = field(default=None, repr=False)
    worker_metrics_port: int | None = None
    metrics_dir: str | None = None

    def __repr__(self) -> str:
        # Settings end up in tracebacks and debug lines: no password of any URL, no key.
        shown = []
        for item in fields(self):
            if not item.repr:
                continue
            value = getattr(self, item.name)
            if item.name.endswith("_url") and isinstance(value, str):
                value = without_secrets(value)
            shown.append(f"{item.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def privacy_notice(self) -> str:
        """The notice attendees consent to: PRIVACY_NOTICE, or the default in Swedish."""
        return self.custom_privacy_notice or DEFAULT_PRIVACY_NOTICE % {
            "controller": self.data_controller,
            "days": self.retention_days,
        }

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def site_domain(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def mailbox_dir(self) -> Path:
        return self.var_dir / "mailbox"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping, with defaults for `make run`."""
        # The working folder's var/, not the code's: an installed wheel's code sits in
        # site-packages, where no database belongs.
        var_dir = Path(environ.get("VAR_DIR", "var")).resolve()
        port = _int(environ, "PORT", 8000)
        if not 0 < port < 65536:
            raise ConfigurationError(f"PORT must be between 1 and 65535, got {port}")
        database_url = normalise_database_url(
            environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'lunchkafe.db'}"
        )
        timezone = environ.get("TIMEZONE", "Europe/Stockholm")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"TIMEZONE={timezone!r} is not a known time zone") from exc
        language = environ.get("DEFAULT_LANGUAGE", "sv")
        if language not in ("sv", "en"):
            raise ConfigurationError("DEFAULT_LANGUAGE must be 'sv' or 'en'")
        base_url = (environ.get("BASE_URL", "").strip() or f"http://127.0.0.1:{port}").rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ConfigurationError("BASE_URL must start with http:// or https://")
        smtp_url = environ.get("SMTP_URL") or None
        if smtp_url and not environ.get("BASE_URL", "").strip():
            # Read here, once, so that every process that makes mail refuses alike: the
            # web process (which sends its own without REDIS_URL), either worker, commands.
            # The local mailbox (no SMTP_URL) is development, where the default is served.
            raise ConfigurationError(
                f"BASE_URL is not set, so the links in mail would point to {base_url}. "
                "Set BASE_URL to the site's public address wherever SMTP_URL is set "
                "(for example BASE_URL=https://lunchkafe.example.se)"
            )
        retention_days = _int(environ, "RETENTION_DAYS", 180)
        if retention_days < FEEDS_KEEP_ENDED_DAYS:
            raise ConfigurationError(
                f"RETENTION_DAYS must be at least {FEEDS_KEEP_ENDED_DAYS}: the calendar feeds "
                f"keep an event {FEEDS_KEEP_ENDED_DAYS} days after it ended, and a booking "
                "anonymised sooner would change a feed without telling its subscribers"
            )
        smtp_connections = _int(environ, "SMTP_CONNECTIONS", DEFAULT_SMTP_CONNECTIONS)
        if not 1 <= smtp_connections <= MAX_SMTP_CONNECTIONS:
            raise ConfigurationError(
                f"SMTP_CONNECTIONS must be between 1 and {MAX_SMTP_CONNECTIONS}, "
                f"got {smtp_connections}"
            )
        log_format = (environ.get("LOG_FORMAT") or "text").strip().lower()
        if log_format not in LOG_FORMATS:
            raise ConfigurationError(
                f"LOG_FORMAT must be 'text' or 'json', got {environ.get('LOG_FORMAT')!r}"
            )
        log_level = (environ.get("LOG_LEVEL") or "INFO").strip().upper()
        if log_level not in LOG_LEVELS:
            raise ConfigurationError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
                f"got {environ.get('LOG_LEVEL')!r}"
            )
        operations = _operations(environ)
        secret_key = environ.get("SECRET_KEY") or ""
        if not secret_key:
            if not database_url.startswith("sqlite"):
                # Several processes on several machines must share one key; a generated
                # file on one of them would silently invalidate every manage link elsewhere.
                raise ConfigurationError("SECRET_KEY must be set when DATABASE_URL is not SQLite")
            secret_key = _development_secret(var_dir)
        agency = _agency(environ)
        site_name = environ.get("SITE_NAME", "Lunchkafé")
        return cls(
            database_url=database_url,
            redis_url=environ.get("REDIS_URL") or None,
            smtp_url=smtp_url,
            base_url=base_url,
            secret_key=secret_key,
            # Unset, mail comes from (and invitations name as organiser) the agency's contact
            # address, the one every page and mail tells people to write to: the address
            # people look for in their spam folder is then the one they can answer.
            mail_from=environ.get("MAIL_FROM")
            or str(Address(display_name=site_name, addr_spec=agency["agency_email"])),
            organiser_email=environ.get("ORGANISER_EMAIL") or agency["agency_email"],
            timezone=timezone,
            default_language=language,
            port=port,
            var_dir=var_dir,
            site_name=site_name,
            retention_days=retention_days,
            custom_privacy_notice=environ.get("PRIVACY_NOTICE") or None,
            reminder_offsets=_offsets(environ.get("REMINDER_OFFSETS", "24h,1h")),
            reminder_grace=_duration(environ, "REMINDER_GRACE", "30m"),
            follow_up_after=_duration(environ, "FOLLOW_UP_AFTER", "2h"),
            outbox_retention_days=_days(environ, "OUTBOX_RETENTION_DAYS", 30),
            audit_retention_days=_days(environ, "AUDIT_RETENTION_DAYS", 730),
            proposal_retention_days=_days(environ, "PROPOSAL_RETENTION_DAYS", 365),
            mailbox_pages=_mailbox_pages(environ.get("MAILBOX_PAGES", "off"), environ),
            booking_rate_limit=_rate_limits(
                "BOOKING_RATE_LIMIT",
                environ.get("BOOKING_RATE_LIMIT"),
                DEFAULT_BOOKING_RATE_LIMIT,
            ),
            booking_rate_limit_per_email=_rate_limits(
                "BOOKING_RATE_LIMIT_PER_EMAIL",
                environ.get("BOOKING_RATE_LIMIT_PER_EMAIL"),
                DEFAULT_BOOKING_RATE_LIMIT_PER_EMAIL,
            ),
            sign_in_rate_limit=_rate_limits(
                "SIGN_IN_RATE_LIMIT",
                environ.get("SIGN_IN_RATE_LIMIT"),
                DEFAULT_SIGN_IN_RATE_LIMIT,
            ),
            sign_in_rate_limit_per_account=_rate_limits(
                "SIGN_IN_RATE_LIMIT_PER_ACCOUNT",
                environ.get("SIGN_IN_RATE_LIMIT_PER_ACCOUNT"),
                DEFAULT_SIGN_IN_RATE_LIMIT_PER_ACCOUNT,
            ),
            session_idle=_duration(environ, "SESSION_IDLE", "1h"),
            session_max_age=_duration(environ, "SESSION_MAX_AGE", "12h"),
            smtp_connections=smtp_connections,
            smtp_utf8=_on_off(environ, "SMTP_UTF8"),
            log_format=log_format,
            log_level=log_level,
            **agency,
            metrics_token=operations.metrics_token,
            worker_metrics_port=operations.worker_metrics_port,
            metrics_dir=operations.metrics_dir,
        )


class _Operations(NamedTuple):
    metrics_token: str | None
    worker_metrics_port: int | None
    metrics_dir: str | None


def _operations(environ: Mapping[str, str]) -> _Operations:
    """METRICS_TOKEN, WORKER_METRICS_PORT and PROMETHEUS_MULTIPROC_DIR (see the fields)."""
    token = (environ.get("METRICS_TOKEN") or "").strip() or None
    if token is not None and (len(token) < 16 or not token.isascii() or " " in token):
        # A bearer token travels in a header (RFC 6750 §2.1): printable ASCII, and long
        # enough that guessing it is hopeless (README: `secrets.token_urlsafe()`).
        raise ConfigurationError("METRICS_TOKEN must be at least 16 ASCII characters, no spaces")
    port = None
    if (environ.get("WORKER_METRICS_PORT") or "").strip():
        port = _int(environ, "WORKER_METRICS_PORT", 0)
        if not 0 < port < 65536:
            raise ConfigurationError(f"WORKER_METRICS_PORT must be between 1 and 65535, got {port}")
        if token is None:
            raise ConfigurationError("WORKER_METRICS_PORT needs METRICS_TOKEN, which it answers to")
    directory = (environ.get("PROMETHEUS_MULTIPROC_DIR") or "").strip() or None
    if directory is not None and not Path(directory).is_dir():
        raise ConfigurationError(
            f"PROMETHEUS_MULTIPROC_DIR={directory!r} is not a directory; create it (empty) first"
        )
    return _Operations(token, port, directory)


def _agency(environ: Mapping[str, str]) -> dict[str, str]:
    """Who runs the site, from AGENCY_NAME and its kin; the demo's fictional agency by default.

    The controller defaults to the agency; the contact and data-protection addresses are
    shown and linked as `mailto:`, so each must be an address (refused otherwise).
    """
    name = (environ.get("AGENCY_NAME") or "").strip() or DEMO_AGENCY_NAME
    found = {
        "agency_name": name,
        "agency_email": (environ.get("AGENCY_EMAIL") or "").strip() or DEMO_AGENCY_EMAIL,
        "agency_address": environ.get("AGENCY_ADDRESS", DEMO_AGENCY_ADDRESS).strip(),
        "data_controller": (environ.get("DATA_CONTROLLER") or "").strip() or name,
        "dpo_email": (environ.get("DPO_EMAIL") or "").strip() or DEMO_DPO_EMAIL,
        "partner_network": environ.get("PARTNER_NETWORK", DEMO_PARTNER_NETWORK).strip(),
        "accessibility_report_url": (environ.get("ACCESSIBILITY_REPORT_URL") or "").strip()
        or DIGG_REPORT_URL,
    }
    for variable, key in (("AGENCY_EMAIL", "agency_email"), ("DPO_EMAIL", "dpo_email")):
        local, at, domain = found[key].partition("@")
        if not (local and at and "." in domain) or any(c in found[key] for c in ' <>?,;"\n'):
            raise ConfigurationError(f"{variable} must be one e-mail address, got {found[key]!r}")
    if urlsplit(found["accessibility_report_url"]).scheme != "https":
        raise ConfigurationError("ACCESSIBILITY_REPORT_URL must start with https://")
    return found


def without_secrets(url: str) -> str:
    """`url` with its password, and any query value that looks like one, shown as ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{hostport}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [
        (key, "***" if any(word in key.lower() for word in _SECRET_QUERY) else value)
        for key, value in pairs
    ]
    query = urlencode(masked, safe="*") if masked != pairs else parts.query
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # unchanged, and not re-spelled (sqlite:///path keeps its slashes)
    return parts._replace(netloc=netloc, query=query).geturl()


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting platforms hand out and pick the async driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ConfigurationError(
        "DATABASE_URL must be a PostgreSQL (postgres://, postgresql://, "
        "postgresql+asyncpg://) or SQLite (sqlite:///path) URL"
    )


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


def _days(environ: Mapping[str, str], name: str, default: int) -> int:
    """A retention period in whole days, at least 1 (0 would erase what is still in use)."""
    days = _int(environ, name, default)
    if days < 1:
        raise ConfigurationError(f"{name} must be at least 1 (days), got {days}")
    return days


def _duration(environ: Mapping[str, str], name: str, default: str) -> timedelta:
    from foundation.timeparse import parse_duration

    try:
        return parse_duration(environ.get(name) or default)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {exc}") from exc


def _offsets(raw: str) -> tuple[int, ...]:
    """'24h,1h' -> (1440, 60): minutes before start, largest first."""
    from foundation.timeparse import parse_duration

    if not raw.strip():
        return ()
    try:
        minutes = {int(parse_duration(part).total_seconds() // 60) for part in raw.split(",")}
    except ValueError as exc:
        raise ConfigurationError(f"REMINDER_OFFSETS: {exc}") from exc
    return tuple(sorted(minutes, reverse=True))


def _rate_limits(name: str, raw: str | None, default: str) -> tuple[RateLimitItem, ...]:
    """'30/minute;300/hour' -> both limits, in the `limits` notation; 'off' -> ()."""
    raw = (raw or "").strip() or default
    if raw.lower() == "off":
        return ()
    try:
        items = tuple(parse_many(raw))
    except ValueError:
        items = ()
    if not items or any(item.amount < 1 for item in items):
        raise ConfigurationError(
            f"{name} must be limits such as '30/minute' or '30/minute;300/hour' "
            f"(several separated by ';'), or 'off'; got {raw!r}"
        )
    return items


def _on_off(environ: Mapping[str, str], name: str) -> bool:
    raw = (environ.get(name) or "off").strip().lower()
    if raw not in ("on", "off"):
        raise ConfigurationError(f"{name} must be 'on' or 'off', got {environ.get(name)!r}")
    return raw == "on"


def _mailbox_pages(raw: str, environ: Mapping[str, str]) -> bool:
    """MAILBOX_PAGES=on serves /mailbox; refused where the site looks public.

    Turned on only by this setting, never guessed from addresses (a forwarded header can
    name any client). With SMTP_URL set, real mail goes out and the pages would show
    nothing; with an https BASE_URL the site is on a public address. Either way, turning
    the pages on is a mistake that would publish every attendee's manage link.
    """
    value = raw.strip().lower()
    if value in ("", "off"):
        return False
    if value != "on":
        raise ConfigurationError(f"MAILBOX_PAGES must be 'on' or 'off', got {raw!r}")
    if environ.get("SMTP_URL"):
        raise ConfigurationError("MAILBOX_PAGES=on is for development; not with SMTP_URL set")
    if environ.get("BASE_URL", "").strip().lower().startswith("https:"):
        raise ConfigurationError("MAILBOX_PAGES=on is for development, not an https BASE_URL")
    return True


def _development_secret(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: of two processes starting at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            existing = path.read_text().strip()
            if existing:
                return existing
            time.sleep(0.01)  # the other process is between creating and writing
        raise ConfigurationError(f"{path} is empty; delete it or set SECRET_KEY") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
