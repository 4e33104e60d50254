"""Counters kept on each event for the booking hot path (issue 11).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the work on this revision


def downgrade() -> None:
    pass
