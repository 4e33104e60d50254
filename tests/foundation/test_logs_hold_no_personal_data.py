"""No personal data or token material in logs, whatever fails, on SQLite and PostgreSQL.

Real flows run with every logger at DEBUG, SQLAlchemy's and the drivers' included: a booking
that the database refuses (its error names the row), a mail bounced with 5xx and greylisted
with 4xx by a real SMTP server whose replies quote the address, and the retry that follows.
Nothing logged may hold the attendee's name, address or organisation, a manage or feed token,
a token nonce or hash, or the join link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from sqlalchemy import select, text

from foundation.services import Services
from lunchkafe.app import create_app
from notices.delivery import DeliveryReport
from registrations.booking import manage_token
from registrations.feeds import feed_for, feed_token
from registrations.models import Registration
from tests.conftest import SECRET, MailFactory, SmtpServer
from tests.factories import JOIN_URL, make_due_now, make_event

NAME = "Hedvig Hemligsdóttir"
EMAIL = "hedvig.hemligsdottir@kommun.example.se"
ORGANISATION = "Sekretessförvaltningen"
REFUSED_NAME = "Rut Refuserad-Okänd"
REFUSED_EMAIL = "rut.refuserad@kommun.example.se"
# Loggers of the test's own machinery, not the app's: the recipient's SMTP server (aiosmtpd
# logs each envelope) and the test's HTTP client (it logs the URLs it fetches).
NOT_OURS = ("mail.log", "httpx", "httpcore")
# Nonces (32 hex), token hashes (64 hex): no 32-hex run has any other business in our logs.
HEX_RUN = re.compile(r"(?<![0-9a-f])[0-9a-f]{32,}(?![0-9a-f])")


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Every logger at DEBUG, including those that keep their records to themselves."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "aiosqlite", "asyncpg", "aiosmtplib", "uvicorn", "lunchkafe"):
        caplog.set_level(logging.DEBUG, logger=name)
    # uvicorn's own logging config stops its records from reaching the root logger.
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.addHandler(caplog.handler)

    def text_of_logs() -> str:
        lines = []
        for record in caplog.records:
            if record.name.startswith(NOT_OURS):
                continue
            lines.append(caplog.handler.format(record))
        return "\n".join(lines)

    yield text_of_logs
    uvicorn.removeHandler(caplog.handler)


def assert_nothing_personal(logged: str, secrets: list[str]) -> None:
    assert logged, "the flow logged nothing; the test would prove nothing"
    found = [secret for secret in secrets if secret and secret.lower() in logged.lower()]
    assert found == [], f"logs hold {found}"
    assert HEX_RUN.findall(logged) == []


@pytest.fixture
async def refusing_database(services: Services) -> AsyncIterator[None]:
    """The database refuses REFUSED_NAME's booking, as a failing constraint or trigger would."""
    async with services.engine.begin() as conn:
        if services.settings.is_sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER test_refuse BEFORE INSERT ON registrations "
                    f"WHEN NEW.name = '{REFUSED_NAME}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            # PostgreSQL answers with DETAIL: "Failing row contains (…)", the whole row.
            await conn.execute(
                text(
                    "ALTER TABLE registrations ADD CONSTRAINT test_refuse "
                    f"CHECK (name <> '{REFUSED_NAME}')"
                )
            )
    try:
        yield
    finally:
        async with services.engine.begin() as conn:
            if services.settings.is_sqlite:
                await conn.execute(text("DROP TRIGGER IF EXISTS test_refuse"))
            else:
                await conn.execute(
                    text("ALTER TABLE registrations DROP CONSTRAINT IF EXISTS test_refuse")
                )


async def test_a_booking_the_database_refuses_logs_no_personal_data(
    services: Services,
    live_server: str,
    refusing_database: None,
    all_logs: Callable[[], str],
) -> None:
    event = await make_event(services)
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post(
            f"/api/events/{event.id}/registrations",
            json={
                "name": REFUSED_NAME,
                "email": REFUSED_EMAIL,
                "organisation": ORGANISATION,
                "consent": True,
            },
        )
    assert response.status_code == 500
    logged = all_logs()
    # The failure is logged, and says what failed.
    assert "refused by the test" in logged or "test_refuse" in logged
    assert_nothing_personal(logged, [REFUSED_NAME, REFUSED_EMAIL, ORGANISATION, JOIN_URL])


async def test_bounces_greylisting_and_retries_log_no_personal_data(
    services: Services,
    mail_factory: MailFactory,
    start_server: Callable[..., SmtpServer],
    all_logs: Callable[[], str],
) -> None:
    # A real server whose replies quote the address and the name, as many do.
    server = start_server(
        rcpt_replies=[
            f"451 4.2.2 <{EMAIL}>: mailbox of {NAME} is full, try again later",
            f"550 5.1.1 <{EMAIL}>: no such user ({NAME})",
        ]
    )
    mail = mail_factory(server)
    event = await make_event(mail.services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(mail.services.settings, mail.services)),
        base_url="http://testserver",
    ) as client:
        booked = await client.post(
            f"/api/events/{event.id}/registrations",
            json={"name": NAME, "email": EMAIL, "organisation": ORGANISATION, "consent": True},
        )
    assert booked.status_code == 202

    assert await mail.deliver() == DeliveryReport(retried=1)  # 4xx: greylisted
    await make_due_now(mail.services)
    assert await mail.deliver() == DeliveryReport(failed=1)  # 5xx: bounced for good

    async with mail.services.transaction() as session:
        registration = (await session.scalars(select(Registration))).one()
        feed = await feed_for(session, registration.email_normalised, SECRET)
    logged = all_logs()
    assert "451" in logged  # the retry and the bounce are logged, by their codes
    assert "550" in logged
    assert_nothing_personal(
        logged,
        [
            NAME,
            EMAIL,
            ORGANISATION,
            JOIN_URL,
            manage_token(registration, SECRET),
            registration.token_nonce,
            registration.manage_token_hash,
            feed_token(feed, SECRET),
            feed.token_nonce,
            feed.token_hash,
        ],
    )
