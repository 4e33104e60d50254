"""Composing an organiser's account mail: the invitation and the password reset.

These outbox rows belong to no event or registration; their payload names the AccountLink
and carries the nonce its token is derived from (organisers/password_links.py says why the
token itself is stored nowhere). A link used, run out, ended by a newer one, of a disabled
account, or whose token no longer matches (SECRET_KEY changed) makes its mail moot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from foundation.i18n import format_datetime as swedish_moment
from foundation.settings import Settings
from foundation.site_paths import url
from mail import headers
from mail.models import MessageKind, OutboxMessage
from notices.compose import _environment
from notices.signature import signature
from organisers.models import AccountLink
from organisers.password_links import derive_token
from organisers.secrets import hash_of

KINDS = frozenset({MessageKind.ORGANISER_INVITE, MessageKind.PASSWORD_RESET})


@dataclass(frozen=True)
class AccountDraft:
    """An account mail ready to render: its row, its link (with the account) and token."""

    row: OutboxMessage
    link: AccountLink
    token: str


async def load_drafts(
    session: AsyncSession, rows: Sequence[OutboxMessage], settings: Settings, now: datetime
) -> list[tuple[OutboxMessage, AccountDraft | None, str | None]]:
    """For each account-mail row its draft, or why it is moot; one query for the batch."""
    wanted = {int(r.payload.get("link_id", 0)) for r in rows}
    links = {
        link.id: link
        for link in await session.scalars(
            select(AccountLink)
            .options(selectinload(AccountLink.organiser))
            .where(AccountLink.id.in_(wanted))
        )
    }
    drafts: list[tuple[OutboxMessage, AccountDraft | None, str | None]] = []
    for row in rows:
        link = links.get(int(row.payload.get("link_id", 0)))
        token = derive_token(settings.secret_key, str(row.payload.get("nonce", "")))
        if link is None:
            reason = "the link no longer exists"
        elif link.used_at is not None or link.expires_at <= now:
            reason = "the link was used, ended by a newer one, or ran out"
        elif link.organiser.disabled_at is not None:
            reason = "the account is disabled"
        elif hash_of(token) != link.token_hash:
            reason = "the link's token no longer derives (SECRET_KEY changed?)"
        else:
            drafts.append((row, AccountDraft(row, link, token), None))
            continue
        drafts.append((row, None, reason))
    return drafts


def render(draft: AccountDraft, settings: Settings, now: datetime) -> EmailMessage:
    """The mail: text and HTML from templates/mail/<kind>.{subject.txt,txt,html}, in the
    site's language (an account has no language of its own yet)."""
    row, link = draft.row, draft.link
    organiser = link.organiser
    base = settings.base_url
    language = settings.default_language
    context = {
        **signature(settings, language),
        "site_name": settings.site_name,
        "language": language,
        "name": organiser.name,
        "email": organiser.email,
        "link_url": url(base, "organiser_set_password", token=draft.token),
        "expires": swedish_moment(link.expires_at, settings.timezone, language),
        "login_url": url(base, "organiser_login"),
        "forgot_url": url(base, "organiser_forgot"),
    }
    env = _environment(language)
    name = row.kind.value
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(context).split())
    message = EmailMessage(policy=headers.POLICY)
    message["Subject"] = headers.subject(subject)
    message["From"] = settings.mail_from
    message["To"] = headers.mailbox(organiser.name, organiser.email)
    message["Date"] = format_datetime(now)
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or settings.site_domain
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template(f"{name}.txt").render(context))
    message.add_alternative(env.get_template(f"{name}.html").render(context), subtype="html")
    headers.verify_headers(message)
    return message
