"""Seats taken and places in line counted on each event, for the booking hot path (issue 11).

A booking on PostgreSQL claims a seat with one conditional update of `confirmed_count`
(`… WHERE confirmed_count < capacity`) instead of locking the event and counting its
registrations; every change of a registration's status keeps both counters in step
(registrations.waitlist.check_counters finds any event where they differ). Filled here
from the registrations already stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch copy of `events` on SQLite would drop the
    # table that registrations and outbox rows reference with ON DELETE CASCADE.
    op.add_column(
        "events", sa.Column("confirmed_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "events", sa.Column("waitlisted_count", sa.Integer(), nullable=False, server_default="0")
    )
    for column, status in (("confirmed_count", "confirmed"), ("waitlisted_count", "waitlisted")):
        op.execute(
            f"UPDATE events SET {column} = (SELECT count(*) FROM registrations"  # noqa: S608
            f" WHERE registrations.event_id = events.id AND registrations.status = '{status}')"
        )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on SQLite too (3.35 and later), for the reason above.
    op.drop_column("events", "waitlisted_count")
    op.drop_column("events", "confirmed_count")
