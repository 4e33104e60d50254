"""Proposals sent in through "Dela med dig": an example someone offers the guide, kept apart
from the published examples until an organiser approves it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.database import Base
from foundation.timestamps import UTCDateTime


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for an organiser; never shown publicly
    APPROVED = "approved"  # published as `example_id`
    REJECTED = "rejected"  # declined, with a note to the proposer


def _values(e: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in e]


class GuideProposal(Base):
    """One proposal: what the proposer wrote, how to reach them, when they consented to the
    handling of their personal data, and the organiser's decision."""

    __tablename__ = "guide_proposals"
    __table_args__ = (Index("ix_guide_proposals_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    # Optional, as a published example shows them (migration 0014); "" when not given.
    contact_role: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The language it was written in (foundation.i18n.LANGUAGES): the decision is mailed in it.
    language: Mapped[str] = mapped_column(String(8))
    # When the proposer accepted the notice shown beside the form (GDPR art. 7(1): the
    # controller must be able to show that consent was given).
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ProposalStatus] = mapped_column(
        Enum(ProposalStatus, native_enum=False, length=20, values_callable=_values),
        default=ProposalStatus.PENDING,
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The organiser's note to the proposer, mailed with the decision.
    decision_note: Mapped[str] = mapped_column(Text, default="")
    example_id: Mapped[int | None] = mapped_column(
        ForeignKey("guide_examples.id", ondelete="SET NULL")
    )
