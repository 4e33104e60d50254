"""'Dela med dig': anyone may propose an example for the guide; nothing of it is public until
an organiser approves it, edited into a full example, or rejects it with a note. Either way
the proposer is mailed the decision in the language they wrote in (an outbox row written in
the same transaction as the decision, DESIGN.md "Mail").

What a proposer types follows the site's text rule (foundation.text: no controls, bidi
overrides or RFC 2047 encoded words) and their address must be deliverable
(mail.addresses), so nothing typed here can become a mail header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.rules import MSG_SLUG
from foundation.errors import N_, FilledMessage
from foundation.i18n import LANGUAGES
from foundation.ids import is_id
from foundation.services import Services
from foundation.slugs import MAX_SLUG, is_slug, slug_from
from foundation.text import (
    MSG_REQUIRED,
    MSG_TOO_LONG,
    TextRefused,
    clean_line,
    clean_name,
    clean_text,
)
from guide import catalogue, fields
from guide.editing import MSG_ORGANISATION_TYPE, ExampleInput, save_example
from guide.errors import InvalidExample, InvalidProposal, ProposalDecided, ProposalNotFound
from guide.models import GuideExample, OrganisationType
from guide.proposal_models import GuideProposal, ProposalStatus
from mail import addresses
from mail.models import MessageKind
from mail.outbox import enqueue

MAX_TITLE = 300
MAX_LINE = 200  # the organisation, the contact's name and role
MAX_SUMMARY = 1_000  # "på 30 sekunder": a paragraph
MAX_BODY = 8_000  # within the API's 20 kB body (foundation.body_limit) in any script
MAX_EMAIL = 320  # RFC 3696 errata 1690, a bound before validation
MAX_PHONE = fields.MAX_PHONE  # "+46 8 123 45 67" and room to spare
MAX_NOTE = 2_000

MSG_TITLE = N_("Skriv en rubrik för exemplet.")
MSG_ORGANISATION = N_("Skriv vilken organisation exemplet kommer från.")
MSG_SUMMARY = N_("Beskriv exemplet kort, med några meningar.")
MSG_CONTACT_NAME = N_("Skriv namnet på en kontaktperson.")
MSG_EMAIL_REQUIRED = N_("Skriv kontaktpersonens e-postadress.")
MSG_EMAIL_INVALID = N_("Skriv en giltig e-postadress, till exempel namn@kommun.se.")
MSG_CONSENT = N_(
    "Du behöver godkänna hur vi hanterar dina personuppgifter för att skicka förslaget."
)
MSG_LANGUAGE = N_("Välj språk: sv (svenska) eller en (engelska).")
MSG_SLUG_TAKEN = N_("Det finns redan ett exempel med den adressen. Välj en annan.")
MSG_NOTE_REQUIRED = N_("Skriv varför förslaget inte tas med, så att den som skickade det får veta.")
MSG_TOO_LONG_N = N_("Högst %(n)d tecken.")

# The field's own message when it is left empty; other refusals keep the shared rule's.
_REQUIRED = {
    "title": MSG_TITLE,
    "organisation": MSG_ORGANISATION,
    "summary": MSG_SUMMARY,
    "contact_name": MSG_CONTACT_NAME,
}


@dataclass(frozen=True)
class ProposalDraft:
    """A proposal as checked, ready to store."""

    title: str
    organisation: str
    summary: str
    body: str
    contact_name: str
    contact_email: str
    language: str
    contact_role: str = ""
    contact_phone: str = ""


def validate_proposal(
    *,
    title: str,
    organisation: str,
    summary: str,
    body: str,
    contact_name: str,
    contact_email: str,
    consent: bool,
    language: str,
    smtputf8: bool = False,
    contact_role: str = "",
    contact_phone: str = "",
) -> ProposalDraft:
    """A clean ProposalDraft, or InvalidProposal with a Swedish message per field (every
    fault at once). `language` must be one of foundation.i18n.LANGUAGES; `smtputf8`
    (Settings.smtp_utf8) says whether a local part beyond ASCII can be delivered to."""
    problems: dict[str, str] = {}

    values = {
        "title": _text(problems, "title", title, MAX_TITLE, line=True),
        "organisation": _text(problems, "organisation", organisation, MAX_LINE, line=True),
        "summary": _text(problems, "summary", summary, MAX_SUMMARY),
        "body": _text(problems, "body", body, MAX_BODY, required=False),
    }
    try:
        name = clean_name(contact_name, max_length=MAX_LINE)
    except TextRefused as exc:
        problems["contact_name"] = _said(exc.msgid, "contact_name", MAX_LINE)
        name = ""
    email = _address(problems, contact_email, smtputf8)
    role = fields.line(problems, "contact_role", contact_role, MAX_LINE)
    phone = fields.phone(problems, "contact_phone", contact_phone)
    if not consent:
        problems["consent"] = MSG_CONSENT
    if language not in LANGUAGES:
        problems["language"] = MSG_LANGUAGE
    if problems:
        raise InvalidProposal(problems)
    return ProposalDraft(
        title=values["title"],
        organisation=values["organisation"],
        summary=values["summary"],
        body=values["body"],
        contact_name=name,
        contact_email=email,
        language=language,
        contact_role=role,
        contact_phone=phone,
    )


def _said(msgid: str, field: str, longest: int) -> str:
    if msgid == MSG_REQUIRED and field in _REQUIRED:
        return _REQUIRED[field]
    if msgid == MSG_TOO_LONG:
        return FilledMessage(MSG_TOO_LONG_N, n=longest)
    return msgid


def _text(
    problems: dict[str, str],
    field: str,
    value: str,
    longest: int,
    *,
    line: bool = False,
    required: bool = True,
) -> str:
    try:
        if line:
            return clean_line(value, max_length=longest, required=required)
        return clean_text(value, max_length=longest, required=required)
    except TextRefused as exc:
        problems[field] = _said(exc.msgid, field, longest)
        return ""


def _address(problems: dict[str, str], value: str, smtputf8: bool) -> str:
    value = value.strip()
    if not value:
        problems["contact_email"] = MSG_EMAIL_REQUIRED
        return ""
    try:
        clean_line(value, max_length=MAX_EMAIL)  # an address may not hide an encoded word
        return addresses.deliverable(value, smtputf8=smtputf8)
    except addresses.Undeliverable as exc:
        problems["contact_email"] = (
            addresses.MSG_LOCAL_PART_NOT_ASCII if exc.needs_smtputf8 else MSG_EMAIL_INVALID
        )
    except TextRefused:
        problems["contact_email"] = MSG_EMAIL_INVALID
    return ""


async def submit(session: AsyncSession, draft: ProposalDraft, now: datetime) -> GuideProposal:
    """Store a proposal, pending, with `now` as the moment of consent."""
    proposal = GuideProposal(
        title=draft.title,
        organisation=draft.organisation,
        summary=draft.summary,
        body=draft.body,
        contact_name=draft.contact_name,
        contact_email=draft.contact_email,
        contact_role=draft.contact_role,
        contact_phone=draft.contact_phone,
        language=draft.language,
        consented_at=now,
        created_at=now,
        status=ProposalStatus.PENDING,
        decision_note="",
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def submit_within_limits(
    services: Services, client: str, draft: ProposalDraft, now: datetime
) -> GuideProposal:
    """`submit` in a transaction of its own, within the proposal limits for `client` (an
    address, foundation.ratelimit.client_host) and the contact's inbox. Raises
    foundation.ratelimit.TooManyBookings (429, Retry-After) before storing anything."""
    limiter = services.proposal_limiter
    email = addresses.canonical(draft.contact_email)
    await limiter.check(client, email)
    async with services.transaction() as session:
        proposal = await submit(session, draft, now)
    await limiter.booked(email, True)
    return proposal


async def proposals(session: AsyncSession) -> list[GuideProposal]:
    """Every proposal: the pending ones first, oldest first (the one waiting longest on
    top), then the decided ones, latest decision first."""
    rows = (await session.scalars(select(GuideProposal))).all()
    pending = sorted(
        (p for p in rows if p.status is ProposalStatus.PENDING), key=lambda p: (p.created_at, p.id)
    )
    decided = sorted(
        (p for p in rows if p.status is not ProposalStatus.PENDING),
        key=lambda p: (p.decided_at or p.created_at, p.id),
        reverse=True,
    )
    return pending + decided


async def get_proposal(session: AsyncSession, proposal_id: int) -> GuideProposal:
    """The proposal `proposal_id`. Raises ProposalNotFound."""
    proposal = await session.get(GuideProposal, proposal_id) if is_id(proposal_id) else None
    if proposal is None:
        raise ProposalNotFound()
    return proposal


async def _pending(session: AsyncSession, proposal_id: int) -> GuideProposal:
    proposal = await get_proposal(session, proposal_id)
    if proposal.status is not ProposalStatus.PENDING:
        raise ProposalDecided()
    return proposal


@dataclass(frozen=True)
class ExampleEdit:
    """What an organiser makes of a proposal: the example as it will be published. Each
    field left None keeps the proposal's own text (the slug: one made from the title)."""

    slug: str | None = None
    title: str | None = None
    organisation: str | None = None
    # Which kind of organisation (guide.models.OrganisationType's values): the proposal does
    # not say, so the organiser must.
    organisation_type: str = ""
    region: str = ""
    summary: str | None = None
    body: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_role: str | None = None
    contact_phone: str | None = None
    challenge_slugs: Sequence[str] = ()


def suggested_slug(proposal: GuideProposal) -> str:
    """The address an approved proposal gets unless the organiser chooses one."""
    return slug_from(proposal.title)[:MAX_SLUG].strip("-") or f"exempel-{proposal.id}"


async def approve(
    session: AsyncSession,
    proposal_id: int,
    edit: ExampleEdit,
    *,
    note: str,
    smtputf8: bool,
    now: datetime,
) -> GuideExample:
    """Publish the proposal as an example, as `edit` makes it, and mail the proposer that it
    was approved (with `note`, and a link to the example), in their language.

    Raises ProposalNotFound, ProposalDecided (already approved or rejected), or
    InvalidProposal with a message per field (the same rules as the form, and a slug that
    is a slug no other example has).
    """
    proposal = await _pending(session, proposal_id)
    problems: dict[str, str] = {}
    slug = (edit.slug if edit.slug is not None else suggested_slug(proposal)).strip()
    if not is_slug(slug):
        problems["slug"] = MSG_SLUG
    elif await catalogue.get_example(session, slug) is not None:
        problems["slug"] = MSG_SLUG_TAKEN
    kept_note = _text(problems, "note", note, MAX_NOTE, required=False)
    try:
        draft = validate_proposal(
            title=_or(edit.title, proposal.title),
            organisation=_or(edit.organisation, proposal.organisation),
            summary=_or(edit.summary, proposal.summary),
            body=_or(edit.body, proposal.body),
            contact_name=_or(edit.contact_name, proposal.contact_name),
            contact_email=_or(edit.contact_email, proposal.contact_email),
            consent=True,
            language=proposal.language,
            smtputf8=smtputf8,
            contact_role=_or(edit.contact_role, proposal.contact_role),
            contact_phone=_or(edit.contact_phone, proposal.contact_phone),
        )
    except InvalidProposal as exc:
        problems.update(exc.fields)
    if edit.organisation_type not in {t.value for t in OrganisationType}:
        problems["organisation_type"] = MSG_ORGANISATION_TYPE
    if problems:
        raise InvalidProposal(problems)
    try:
        # The catalogue's own save (guide.editing), so an approved example is held to every
        # rule any other example is, and is found by search like any other.
        example = await save_example(
            session,
            ExampleInput(
                slug=slug,
                title=draft.title,
                organisation=draft.organisation,
                organisation_type=edit.organisation_type,
                region=edit.region,
                summary=draft.summary,
                body=draft.body,
                contact_name=draft.contact_name,
                contact_role=draft.contact_role,
                contact_email=draft.contact_email,
                contact_phone=draft.contact_phone,
                challenges=list(edit.challenge_slugs),
                language=proposal.language,
            ),
        )
    except InvalidExample as exc:
        raise InvalidProposal(dict(exc.fields)) from None
    _decide(proposal, ProposalStatus.APPROVED, kept_note, now)
    proposal.example_id = example.id
    await _tell(session, proposal, MessageKind.PROPOSAL_APPROVED)
    return example


async def reject(
    session: AsyncSession, proposal_id: int, *, note: str, now: datetime
) -> GuideProposal:
    """Decline the proposal with `note` (required: the proposer is told why), and mail the
    proposer in their language. Nothing of it becomes public. Raises ProposalNotFound,
    ProposalDecided, or InvalidProposal (`note`)."""
    proposal = await _pending(session, proposal_id)
    problems: dict[str, str] = {}
    kept = _text(problems, "note", note, MAX_NOTE)
    if problems:
        if problems["note"] == MSG_REQUIRED:
            problems["note"] = MSG_NOTE_REQUIRED
        raise InvalidProposal(problems)
    _decide(proposal, ProposalStatus.REJECTED, kept, now)
    await _tell(session, proposal, MessageKind.PROPOSAL_REJECTED)
    return proposal


def _or(given: str | None, kept: str) -> str:
    return kept if given is None else given


def _decide(proposal: GuideProposal, status: ProposalStatus, note: str, now: datetime) -> None:
    proposal.status = status
    proposal.decision_note = note
    proposal.decided_at = now


async def _tell(session: AsyncSession, proposal: GuideProposal, kind: MessageKind) -> None:
    # One decision per proposal, so one mail: the key makes a retried request send none more.
    await enqueue(
        session,
        kind=kind,
        recipient=proposal.contact_email,
        dedupe_key=f"proposal:{proposal.id}:decided",
        payload={"proposal_id": proposal.id},
    )
    await session.flush()


async def purge_decided(session: AsyncSession, *, before: datetime) -> int:
    """Delete every proposal decided before `before` (RETENTION_DAYS after the decision, as
    the notice at /guide/share says): its contact details go with it; an approved one lives
    on as its example. How many."""
    result = await session.execute(
        delete(GuideProposal).where(
            GuideProposal.status != ProposalStatus.PENDING, GuideProposal.decided_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_undecided(session: AsyncSession, *, before: datetime) -> int:
    """Delete every proposal sent before `before` and still not decided
    (PROPOSAL_RETENTION_DAYS after it was sent): its contact details are kept no longer
    than that for a decision that never came. How many."""
    result = await session.execute(
        delete(GuideProposal).where(
            GuideProposal.status == ProposalStatus.PENDING, GuideProposal.created_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
