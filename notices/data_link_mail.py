"""Composing the mail with a link to a person's own data (registrations/personal_data.py).

The row hangs on the address's latest booking and names its personal feed (payload
`feed_id`) and the language of the page the link was asked for on. The token is made here,
at delivery, and stored nowhere, so its hour runs from the moment the mail goes out. A feed
gone since (the data was erased) makes the mail moot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.i18n import LANGUAGES
from foundation.settings import Settings
from foundation.site_paths import url_in
from mail import headers
from mail.models import MessageKind, OutboxMessage
from notices.compose import _environment
from notices.signature import signature
from registrations.models import AttendeeFeed
from registrations.personal_data import LINK_VALID, link_token

KINDS = frozenset({MessageKind.MY_DATA_LINK})


@dataclass(frozen=True)
class DataLinkDraft:
    """A data-link mail ready to render: its row and the feed its token names."""

    row: OutboxMessage
    feed: AttendeeFeed


async def load_drafts(
    session: AsyncSession, rows: Sequence[OutboxMessage], settings: Settings, now: datetime
) -> list[tuple[OutboxMessage, DataLinkDraft | None, str | None]]:
    """For each data-link row its draft, or why it is moot; one query for the batch."""
    wanted = {int(r.payload.get("feed_id", 0)) for r in rows}
    feeds = {
        f.id: f
        for f in await session.scalars(select(AttendeeFeed).where(AttendeeFeed.id.in_(wanted)))
    }
    drafts: list[tuple[OutboxMessage, DataLinkDraft | None, str | None]] = []
    for row in rows:
        feed = feeds.get(int(row.payload.get("feed_id", 0)))
        if feed is None:
            drafts.append((row, None, "the data was erased since"))
        else:
            drafts.append((row, DataLinkDraft(row, feed), None))
    return drafts


def render(draft: DataLinkDraft, settings: Settings, now: datetime) -> EmailMessage:
    """The mail: text and HTML from templates/mail/my_data_link.*, in the page's language,
    with a link that opens the data for LINK_VALID from now."""
    row = draft.row
    language = str(row.payload.get("language", ""))
    if language not in LANGUAGES:
        language = settings.default_language
    token = link_token(draft.feed, settings.secret_key)
    context = {
        **signature(settings, language),
        "site_name": settings.site_name,
        "language": language,
        "link_url": url_in(language, settings.base_url, "my_data_view", token=token),
        "ask_url": url_in(language, settings.base_url, "my_data"),
        "hours": int(LINK_VALID.total_seconds() // 3600),
    }
    env = _environment(language)
    name = row.kind.value
    subject = " ".join(env.get_template(f"{name}.subject.txt").render(context).split())
    message = EmailMessage(policy=headers.POLICY)
    message["Subject"] = headers.subject(subject)
    message["From"] = settings.mail_from
    message["To"] = headers.mailbox("", row.recipient)
    message["Date"] = format_datetime(now)
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or settings.site_domain
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template(f"{name}.txt").render(context))
    message.add_alternative(env.get_template(f"{name}.html").render(context), subtype="html")
    headers.verify_headers(message)
    return message
