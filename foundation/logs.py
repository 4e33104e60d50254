"""Logging, configured once when a process starts (web, worker, command line).

LOG_FORMAT=text gives a person at a terminal one readable line per record: time, level,
logger, message. LOG_FORMAT=json gives a log pipeline one JSON object per line: `time` (ISO
8601, UTC), `level`, `logger`, `message`, the `request_id` of the request being answered,
and on access lines `route`, `method`, `status` and `duration_ms` (foundation.request_log).

What is never logged: a request's concrete path (it may hold a manage or feed token; access
lines name the route template), its body, headers or query, and any password (Settings hides
the ones in its URLs). uvicorn's own access line, which logs the concrete path, is switched
off here whatever uvicorn was told.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from foundation.settings import Settings

# The id of the request this task is answering; set by foundation.request_log.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What an access line carries beside its message, each a key of its own in JSON.
ACCESS_FIELDS = ("route", "method", "status", "duration_ms")
# The name of the handler configure_logging() installs, so a second call replaces it.
HANDLER_NAME = "lunchkafe"


class TextFormatter(logging.Formatter):
    """`2025-03-01 12:00:00,123 INFO lunchkafe.workers worker stopped`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a traceback is a string inside it, never lines of its own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = getattr(record, "request_id", None) or request_id.get()
        if current is not None:
            entry["request_id"] = current
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every logger's records, uvicorn's and warnings included, to `stream` (stderr)
    in the format and from the level the settings name. Safe to call again."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    # The handler's level too: records of loggers with their own level (uvicorn's) propagate
    # past the root's.
    handler.setLevel(settings.log_level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn configures its loggers before it imports the app: through ours instead, so
    # its lines are JSON too in production.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Its access line names the concrete path, which may hold a token; lunchkafe.access
    # logs the route template instead.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    logging.captureWarnings(True)
