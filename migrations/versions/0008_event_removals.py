"""When an event left the database (a draft deleted), per series: a feed's Last-Modified
then never goes back below a date it served while the event was in it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_removals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_removals")),
    )
    with op.batch_alter_table("event_removals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_removals_series_id"), ["series_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("event_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_removals_series_id"))
    op.drop_table("event_removals")
