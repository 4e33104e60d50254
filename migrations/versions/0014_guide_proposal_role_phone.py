"""A proposal to the guide can give its contact's role and phone number, as a published
example shows them (both optional, empty when not given).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guide_proposals") as batch:
        batch.add_column(
            sa.Column("contact_role", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("contact_phone", sa.String(40), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("guide_proposals") as batch:
        batch.drop_column("contact_phone")
        batch.drop_column("contact_role")
