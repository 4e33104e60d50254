"""The development guide as a catalogue: examples, tips, processes, challenges (issue 12).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the work on this revision


def downgrade() -> None:
    pass
