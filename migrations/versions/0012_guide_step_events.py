"""A process step links the sessions (cafés, workshops) that work on it (issue 12, item 1).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guide_step_events",
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_guide_step_events_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["guide_process_steps.id"],
            name=op.f("fk_guide_step_events_step_id_guide_process_steps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("step_id", "event_id", name=op.f("pk_guide_step_events")),
    )
    op.create_index(
        op.f("ix_guide_step_events_event_id"), "guide_step_events", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guide_step_events_event_id"), table_name="guide_step_events")
    op.drop_table("guide_step_events")
