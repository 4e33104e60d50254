"""Organiser accounts by mail: an invitation or a reset link arrives through a real SMTP
server, sets a password once and signs the person in; and the admins' account pages."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from foundation.services import Services
from foundation.timestamps import utcnow
from lunchkafe.app import create_app
from mail.models import MessageKind, OutboxMessage
from notices.delivery import DeliveryReport
from organisers.models import AccessToken, AccountLink, AuditEntry, LinkPurpose, Organiser
from organisers.secrets import hash_of
from tests.conftest import SECRET, Mail
from tests.factories import csrf_in, csrf_of
from tests.signing_in import PASSWORD, add, sign_in, text_of

NEW_PASSWORD = "ett helt nytt lösenord för hösten"
LINK = re.compile(r"http://testserver/organiser/password/([A-Za-z0-9_-]{43})")
SAME_ANSWER = "Om adressen har ett konto har vi skickat en länk."
LUNCHKAFE = Path(sys.executable).with_name("lunchkafe")


@pytest.fixture
async def web(mail: Mail) -> AsyncIterator[httpx.AsyncClient]:
    """The app's own client on the services whose mail goes to the test's SMTP server."""
    async with new_client(mail.services) as client:
        yield client


def new_client(services: Services) -> httpx.AsyncClient:
    """Another browser: cookies of its own."""
    app = create_app(services.settings, services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def text_part(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def html_part(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def token_in(message: EmailMessage) -> str:
    """The one set-password link's token, the same in the text and the HTML part."""
    (token,) = set(LINK.findall(text_part(message)))
    assert set(LINK.findall(html_part(message))) == {token}
    return str(token)


async def add_account(admin: httpx.AsyncClient, **form: str) -> httpx.Response:
    page = await admin.get("/organiser/accounts/new")
    assert page.status_code == 200
    return await admin.post(
        "/organiser/accounts/new", data={"csrf_token": csrf_in(page.text), **form}
    )


async def post_on(client: httpx.AsyncClient, page: str, action: str) -> httpx.Response:
    """Submit a form of `page` (its CSRF token) to `action`."""
    shown = await client.get(page)
    return await client.post(action, data={"csrf_token": csrf_in(shown.text)})


async def set_password(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    form = await client.get(f"/organiser/password/{token}")
    assert form.status_code == 200, form.text
    return await client.post(
        f"/organiser/password/{token}",
        data={"csrf_token": csrf_in(form.text), "password": password, "password_again": password},
    )


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/organiser/forgot")
    return await client.post(
        "/organiser/forgot", data={"csrf_token": csrf_in(page.text), "email": email}
    )


async def audit_actions(services: Services) -> list[str]:
    async with services.transaction() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def account(services: Services, email: str) -> Organiser:
    async with services.transaction() as session:
        found = await session.scalar(select(Organiser).where(Organiser.email == email))
    assert found is not None
    return found


# --- the invitation --------------------------------------------------------------------------


async def test_an_invited_organiser_sets_a_password_from_the_mail_and_is_signed_in(
    mail: Mail, web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await add(mail.services, "boss@myndigheten.example.se", role="admin")
    await sign_in(web, "boss@myndigheten.example.se")
    added = await add_account(web, name="Nora Ny", email="nora@kommun.example.se", role="organiser")
    assert added.status_code == 303
    shown = await web.get(added.headers["location"])
    assert "Inbjudan ligger i utkorgen" in text_of(shown)
    assert "Väntar på lösenord" in text_of(shown)

    assert await mail.deliver() == DeliveryReport(sent=1)
    invitation = mail.only("nora@kommun.example.se")
    assert str(invitation["Subject"]) == "Välkommen som arrangör på Lunchkafé"
    assert "Hej Nora Ny!" in text_part(invitation)
    assert "gäller till" in text_part(invitation)
    token = token_in(invitation)

    async with new_client(mail.services) as nora:
        form = await nora.get(f"/organiser/password/{token}")
        assert form.status_code == 200
        assert form.headers["cache-control"] == "private, no-store"
        assert form.headers["referrer-policy"] == "no-referrer"  # the token stays here
        assert "Välj ditt lösenord" in text_of(form)
        short = await nora.post(
            f"/organiser/password/{token}",
            data={"csrf_token": csrf_in(form.text), "password": "kort", "password_again": "kort"},
        )
        assert short.status_code == 422
        assert "minst 12 tecken" in text_of(short)
        done = await nora.post(
            f"/organiser/password/{token}",
            data={
                "csrf_token": csrf_in(form.text),
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/organiser/"
        home = await nora.get("/organiser/")
        assert home.status_code == 200
        assert "Inloggad som Nora Ny" in text_of(home)

        # The link worked once: now it says so, and sets nothing.
        again = await nora.get(f"/organiser/password/{token}")
        assert again.status_code == 404
        assert "Länken har redan använts eller gått ut" in text_of(again)
        # Signing in gave the browser a new CSRF cookie, so the replay takes a fresh token.
        fresh = await csrf_of(nora, "/organiser/forgot")
        replay = await nora.post(
            f"/organiser/password/{token}",
            data={"csrf_token": fresh, "password": "någon annans lösenord här"},
        )
        assert replay.status_code == 404

    async with new_client(mail.services) as later:
        assert (await sign_in(later, "nora@kommun.example.se", NEW_PASSWORD)).status_code == 303

    # The token is in the mail and nowhere else: not the outbox row, the link, nor the log.
    async with mail.services.transaction() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == MessageKind.ORGANISER_INVITE)
        )
        link = await session.scalar(select(AccountLink))
    assert row is not None
    assert link is not None
    assert row.event_id is None
    assert row.registration_id is None
    assert token not in repr(row.payload)
    assert token not in (row.last_error or "")
    assert link.token_hash == hash_of(token)
    # The test's own HTTP client logs the URLs it asks for; the app (no access log) nothing.
    logged = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert logged
    assert not [line for line in logged if token in line]
    assert await audit_actions(mail.services) == [
        "account.added",
        "signed_in",
        "account.added",
        "account.invited",
        "password.set",
        "signed_in",
    ]


async def test_a_new_invitation_ends_the_old_link(mail: Mail, web: httpx.AsyncClient) -> None:
    await add(mail.services, "boss@myndigheten.example.se", role="admin")
    await sign_in(web, "boss@myndigheten.example.se")
    added = await add_account(web, name="Nora", email="nora@kommun.example.se", role="admin")
    page = added.headers["location"].split("?")[0]
    await mail.deliver()
    first = token_in(mail.only("nora@kommun.example.se"))
    mail.clear()

    resent = await post_on(web, page, f"{page}/invite")
    assert resent.status_code == 303
    await mail.deliver()
    second = token_in(mail.only("nora@kommun.example.se"))
    assert second != first
    assert (await web.get(f"/organiser/password/{first}")).status_code == 404
    async with new_client(mail.services) as nora:
        assert (await set_password(nora, second)).status_code == 303
        assert "Konton" in text_of(await nora.get("/organiser/"))  # an admin now

    # With a password set, inviting again is refused and nothing is mailed.
    mail.clear()
    refused = await post_on(web, page, f"{page}/invite")
    assert refused.status_code == 409
    assert "Kontot har redan ett lösenord" in text_of(refused)
    assert await mail.deliver() == DeliveryReport()


async def test_an_invitation_runs_out_after_seven_days(mail: Mail, web: httpx.AsyncClient) -> None:
    await add(mail.services, "boss@myndigheten.example.se", role="admin")
    await sign_in(web, "boss@myndigheten.example.se")
    await add_account(web, name="Nora", email="nora@kommun.example.se", role="organiser")
    async with mail.services.transaction() as session:
        link = await session.scalar(select(AccountLink))
        assert link is not None
        assert link.purpose == LinkPurpose.INVITE
        assert link.expires_at - link.created_at == timedelta(days=7)
    await mail.deliver()
    token = token_in(mail.only("nora@kommun.example.se"))

    async with mail.services.transaction() as session:  # seven days and a second later
        await session.execute(
            update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    async with new_client(mail.services) as nora:
        expired = await nora.get(f"/organiser/password/{token}")
        assert expired.status_code == 404
        assert "Be om en ny på inloggningssidan" in text_of(expired)
    assert (await account(mail.services, "nora@kommun.example.se")).password_hash is None


async def test_a_link_that_ran_out_before_delivery_is_not_mailed(mail: Mail) -> None:
    await add(mail.services, "nora@kommun.example.se", password=None)
    async with new_client(mail.services) as client:
        await forgot(client, "nora@kommun.example.se")
    async with mail.services.transaction() as session:
        await session.execute(update(AccountLink).values(expires_at=utcnow()))
    assert await mail.deliver() == DeliveryReport(skipped=1)
    assert mail.messages == []


# --- forgot password -------------------------------------------------------------------------


async def test_forgot_password_answers_alike_and_mails_only_an_account(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    await add(mail.services, "anna@myndigheten.example.se")
    login = await web.get("/organiser/login")
    assert 'href="/organiser/forgot"' in login.text
    assert "Glömt lösenordet?" in text_of(login)

    known = await forgot(web, "Anna@Myndigheten.example.se")
    unknown = await forgot(web, "okand@myndigheten.example.se")
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in text_of(known)
    assert text_of(known) == text_of(unknown)

    assert await mail.deliver() == DeliveryReport(sent=1)
    (reset,) = mail.messages
    assert "anna@myndigheten.example.se" in str(reset["To"])
    assert str(reset["Subject"]) == "Nytt lösenord till Lunchkafé"
    assert "Bad du inte om det?" in text_part(reset)
    async with mail.services.transaction() as session:
        link = await session.scalar(select(AccountLink))
        assert link is not None
        assert link.purpose == LinkPurpose.RESET
        assert link.expires_at - link.created_at == timedelta(hours=1)


async def test_a_disabled_account_gets_no_reset_link(mail: Mail, web: httpx.AsyncClient) -> None:
    await add(mail.services, "boss@myndigheten.example.se", role="admin")
    gone = await add(mail.services, "anna@myndigheten.example.se")
    await sign_in(web, "boss@myndigheten.example.se")
    await post_on(
        web, f"/organiser/accounts/{gone.id}/disable", f"/organiser/accounts/{gone.id}/disable"
    )
    assert SAME_ANSWER in text_of(await forgot(web, "anna@myndigheten.example.se"))
    assert await mail.deliver() == DeliveryReport()


async def test_setting_a_new_password_ends_every_other_session(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    await add(mail.services, "anna@myndigheten.example.se")
    await sign_in(web, "anna@myndigheten.example.se")  # on the office computer
    assert (await web.get("/organiser/")).status_code == 200

    async with new_client(mail.services) as phone:
        await forgot(phone, "anna@myndigheten.example.se")
        await mail.deliver()
        token = token_in(mail.only("anna@myndigheten.example.se"))
        reset = await phone.get(f"/organiser/password/{token}")
        assert "Välj ett nytt lösenord" in text_of(reset)
        assert "loggas du ut från alla andra webbläsare" in text_of(reset)
        assert (await set_password(phone, token)).status_code == 303
        assert (await phone.get("/organiser/")).status_code == 200

    assert (await web.get("/organiser/")).status_code == 303  # signed out there
    assert (await sign_in(web, "anna@myndigheten.example.se", PASSWORD)).status_code == 401
    assert (await sign_in(web, "anna@myndigheten.example.se", NEW_PASSWORD)).status_code == 303


async def test_a_newer_reset_link_ends_the_older_one(mail: Mail, web: httpx.AsyncClient) -> None:
    await add(mail.services, "anna@myndigheten.example.se")
    await forgot(web, "anna@myndigheten.example.se")
    await forgot(web, "anna@myndigheten.example.se")
    # The first mail was made moot by the second before it went.
    assert await mail.deliver() == DeliveryReport(sent=1, skipped=1)
    token = token_in(mail.only("anna@myndigheten.example.se"))
    assert (await set_password(web, token)).status_code == 303


async def test_forgot_password_is_held_back_alike_for_any_address(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add(services, "anna@myndigheten.example.se")
    for email in ("anna@myndigheten.example.se", "okand@myndigheten.example.se"):
        # Reset links have a budget of their own per address (3 an hour), apart from
        # sign-ins, so asking for them can never lock the account out of signing in.
        codes = [(await forgot(client, email)).status_code for _ in range(4)]
        assert codes == [200] * 3 + [429], email
    async with services.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert len(rows) == 3  # the known address's three; the unknown got none
    assert {r.recipient for r in rows} == {"anna@myndigheten.example.se"}


# --- the admins' account pages ---------------------------------------------------------------


async def test_an_admin_adds_an_account_and_a_wrong_form_keeps_what_was_typed(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    await add(mail.services, "boss@myndigheten.example.se", role="admin")
    await sign_in(web, "boss@myndigheten.example.se")
    listing = await web.get("/organiser/accounts")
    assert 'href="/organiser/accounts/new"' in listing.text
    wrong = await add_account(web, name="Nora Ny", email="inte en adress", role="organiser")
    assert wrong.status_code == 422
    assert "Det finns fel i formuläret" in text_of(wrong)
    assert "Skriv en giltig e-postadress." in text_of(wrong)
    assert 'value="Nora Ny"' in wrong.text
    taken = await add_account(
        web, name="Boss igen", email="BOSS@myndigheten.example.se", role="admin"
    )
    assert taken.status_code == 422
    assert "Det finns redan ett konto med den adressen." in text_of(taken)
    assert await mail.deliver() == DeliveryReport()


async def test_an_admin_disables_an_account_after_confirming(
    mail: Mail, web: httpx.AsyncClient
) -> None:
    boss = await add(mail.services, "boss@myndigheten.example.se", role="admin")
    anna = await add(mail.services, "anna@myndigheten.example.se")
    async with mail.services.transaction() as session:
        session.add(
            AccessToken(
                organiser_id=anna.id, name="skript", token_hash="0" * 64, created_at=utcnow()
            )
        )
    async with new_client(mail.services) as annas:
        await sign_in(annas, "anna@myndigheten.example.se")
        assert (await annas.get("/organiser/")).status_code == 200
        await sign_in(web, "boss@myndigheten.example.se")

        page = await web.get(f"/organiser/accounts/{anna.id}")
        assert f'href="/organiser/accounts/{anna.id}/disable"' in page.text
        confirm = await web.get(f"/organiser/accounts/{anna.id}/disable")
        assert confirm.status_code == 200
        assert "Stäng av kontot för Anna?" in text_of(confirm)
        assert (await account(mail.services, "anna@myndigheten.example.se")).disabled_at is None

        done = await web.post(
            f"/organiser/accounts/{anna.id}/disable", data={"csrf_token": csrf_in(confirm.text)}
        )
        assert done.status_code == 303
        assert "Avstängt" in text_of(await web.get(done.headers["location"]))
        assert (await annas.get("/organiser/")).status_code == 303  # signed out at once
        assert (await sign_in(annas, "anna@myndigheten.example.se")).status_code == 401
    async with mail.services.transaction() as session:
        token = await session.scalar(select(AccessToken))
        assert token is not None
        assert token.revoked_at is not None

    # Not one's own account: that could leave nobody to manage accounts.
    own = await post_on(
        web, f"/organiser/accounts/{boss.id}", f"/organiser/accounts/{boss.id}/disable"
    )
    assert own.status_code == 409
    assert "Du kan inte stänga av ditt eget konto." in text_of(own)
    assert (await web.get("/organiser/")).status_code == 200
    assert (await audit_actions(mail.services))[-1] == "account.disabled"


async def test_an_admin_signs_an_account_out_everywhere(mail: Mail, web: httpx.AsyncClient) -> None:
    await add(mail.services, "boss@myndigheten.example.se", role="admin")
    anna = await add(mail.services, "anna@myndigheten.example.se")
    async with new_client(mail.services) as laptop, new_client(mail.services) as phone:
        await sign_in(laptop, "anna@myndigheten.example.se")
        await sign_in(phone, "anna@myndigheten.example.se")
        await sign_in(web, "boss@myndigheten.example.se")
        page = f"/organiser/accounts/{anna.id}"
        assert "Inloggade webbläsare 2" in text_of(await web.get(page))
        done = await post_on(web, page, f"{page}/sign-out")
        assert done.status_code == 303
        shown = await web.get(done.headers["location"])
        assert "Kontot är utloggat från alla webbläsare." in text_of(shown)
        assert "Inloggade webbläsare 0" in text_of(shown)
        assert (await laptop.get("/organiser/")).status_code == 303
        assert (await phone.get("/organiser/")).status_code == 303
        # Signing in again still works: this ends sessions, not the account.
        assert (await sign_in(phone, "anna@myndigheten.example.se")).status_code == 303
    async with mail.services.transaction() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "account.signed_out")
        )
        assert entry is not None
        assert (entry.actor, entry.subject, entry.detail) == (
            "Boss",
            f"account:{anna.id}",
            {"sessions": 2, "tokens_revoked": 0},
        )


async def test_an_organiser_can_do_none_of_it(
    services: Services, client: httpx.AsyncClient
) -> None:
    target = await add(services, "anna@myndigheten.example.se")
    await add(services, "olle@myndigheten.example.se")
    await sign_in(client, "olle@myndigheten.example.se")
    token = csrf_in((await client.get("/organiser/")).text)
    page = f"/organiser/accounts/{target.id}"
    for path in ("/organiser/accounts", "/organiser/accounts/new", page, f"{page}/disable"):
        answer = await client.get(path)
        assert answer.status_code == 403, path
        assert "Ditt konto har inte behörighet" in text_of(answer)
    posts = {
        "/organiser/accounts/new": {"name": "X", "email": "x@example.se", "role": "admin"},
        f"{page}/disable": {},
        f"{page}/sign-out": {},
        f"{page}/invite": {},
    }
    for path, form in posts.items():
        answer = await client.post(path, data={"csrf_token": token, **form})
        assert answer.status_code == 403, path
        assert "Ditt konto har inte behörighet" in text_of(answer)
    async with services.transaction() as session:
        assert (await session.get(Organiser, target.id)).disabled_at is None  # type: ignore[union-attr]
        assert (
            await session.scalar(select(Organiser).where(Organiser.email == "x@example.se")) is None
        )
        assert list(await session.scalars(select(OutboxMessage.id))) == []  # nothing mailed


# --- the command line ------------------------------------------------------------------------


async def test_the_command_line_adds_an_account_that_is_invited_by_mail(
    mail: Mail, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DATABASE_URL=mail.services.settings.database_url,
        SECRET_KEY=SECRET,
        VAR_DIR=str(tmp_path),
        SMTP_URL=str(mail.services.settings.smtp_url),
        BASE_URL="http://testserver",
    )
    process = await asyncio.create_subprocess_exec(
        str(LUNCHKAFE),
        *("organisers", "add", "nora@kommun.example.se", "--name", "Nora Ny", "--invite"),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,  # nothing is read: the password comes by mail
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "added: nora@kommun.example.se (organiser)" in out.decode()
    assert "invitation" in out.decode()

    await mail.deliver()  # if the command's own nudge has not sent it already
    token = token_in(mail.only("nora@kommun.example.se"))
    assert token not in out.decode() + err.decode()
    async with new_client(mail.services) as nora:
        assert (await set_password(nora, token)).status_code == 303
        assert "Inloggad som Nora Ny" in text_of(await nora.get("/organiser/"))
    assert await audit_actions(mail.services) == [
        "account.added",
        "account.invited",
        "password.set",
    ]
