"""Swedish search over the guide, and proposals from 'Dela med dig' (issue 12).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the work on this revision


def downgrade() -> None:
    pass
