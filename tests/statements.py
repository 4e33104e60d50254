"""What the database is sent while a block of a test runs: for tests that count a page's
statements or look for a write among them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from foundation.services import Services


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """Every statement either engine (the writer's, the pages' readers') sends while the
    block runs, in order."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    engines = [e.sync_engine for e in (services.engine, services.readers) if e is not None]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
