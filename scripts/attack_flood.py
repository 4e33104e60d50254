"""Issue 7, item 5, at full size: one client floods the booking API of a live uvicorn.

    .venv/bin/python scripts/attack_flood.py [--requests 1000]

Two floods against the default limits (BOOKING_RATE_LIMIT, BOOKING_RATE_LIMIT_PER_EMAIL),
each on a fresh SQLite database: invented addresses from one client, then one inbox spelled
with endless +tags from many clients (a limit keyed on the spelling would let them all through).
Prints the answers by status code and how many mails were queued.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from foundation.services import Services  # noqa: E402
from lunchkafe.migrate import upgrade  # noqa: E402
from mail.models import OutboxMessage  # noqa: E402
from tests.conftest import make_settings, uvicorn_serving  # noqa: E402
from tests.factories import make_event  # noqa: E402
from tests.ports import free_port  # noqa: E402

DEFAULTS = {"BOOKING_RATE_LIMIT": "", "BOOKING_RATE_LIMIT_PER_EMAIL": ""}  # "" = the default


async def flood(workdir: Path, requests: int, *, one_inbox: bool) -> None:
    # The one-inbox flood as if from many clients: only the per-address limit holds it back.
    limits = {**DEFAULTS, **({"BOOKING_RATE_LIMIT": "off"} if one_inbox else {})}
    settings = make_settings(
        f"sqlite+aiosqlite:///{workdir / 'flood.db'}",
        workdir,
        BASE_URL=f"http://127.0.0.1:{free_port()}",
        **limits,
    )
    services = Services.build(settings)
    try:
        await upgrade(services.engine)
        event = await make_event(services, capacity=20)
        codes: Counter[int] = Counter()
        started = time.monotonic()
        async with uvicorn_serving(services) as url, httpx.AsyncClient(base_url=url) as client:
            for n in range(requests):
                email = f"victim+{n}@kommun.example.se" if one_inbox else f"p{n}@example.se"
                body = {"name": f"Person {n}", "email": email, "consent": True}
                response = await client.post(f"/api/events/{event.id}/registrations", json=body)
                codes[response.status_code] += 1
        elapsed = time.monotonic() - started
        async with services.transaction() as session:
            mails = await session.scalar(select(func.count()).select_from(OutboxMessage))
        what = "one inbox as +tags" if one_inbox else "invented addresses, one client"
        answers = ", ".join(f"{count} × {code}" for code, count in sorted(codes.items()))
        print(f"{what}: {requests} requests in {elapsed:.1f} s → {answers}; mails queued: {mails}")
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    for one_inbox in (False, True):
        with tempfile.TemporaryDirectory() as workdir:
            asyncio.run(flood(Path(workdir), args.requests, one_inbox=one_inbox))


if __name__ == "__main__":
    main()
