"""Mail: reminder offsets per series and event, organiser sends, outbox send link.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:20:16.619848
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "organiser_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "booking_confirmed",
                "waitlisted",
                "promoted",
                "reminder",
                "event_changed",
                "event_cancelled",
                "registration_cancelled",
                "organiser_message",
                "follow_up",
                name="messagekind",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "audience",
            sa.Enum(
                "confirmed", "waitlisted", "all", name="audience", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_organiser_sends_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organiser_sends")),
    )
    with op.batch_alter_table("organiser_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organiser_sends_event_id"), ["event_id"], unique=False)

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_offsets", sa.JSON(), nullable=True))

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_send_id"), ["send_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_send_id_organiser_sends"),
            "organiser_sends",
            ["send_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_offsets", sa.JSON(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_column("reminder_offsets")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_send_id_organiser_sends"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_messages_send_id"))
        batch_op.drop_column("send_id")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("reminder_offsets")

    with op.batch_alter_table("organiser_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organiser_sends_event_id"))

    op.drop_table("organiser_sends")
