"""Feeds: each attendee's personal calendar feed token.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:24:13.219751
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "attendee_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_normalised", sa.String(length=320), nullable=False),
        sa.Column("token_nonce", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendee_feeds")),
        sa.UniqueConstraint("email_normalised", name=op.f("uq_attendee_feeds_email_normalised")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_attendee_feeds_token_hash")),
    )


def downgrade() -> None:

    op.drop_table("attendee_feeds")
