"""Swedish search over the guide, and proposals from 'Dela med dig' (issue 12).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum(
    "pending", "approved", "rejected", name="proposalstatus", native_enum=False, length=20
)


def upgrade() -> None:
    op.create_table(
        "guide_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("consented_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["guide_examples.id"],
            name=op.f("fk_guide_proposals_example_id_guide_examples"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_proposals")),
    )
    op.create_index(
        "ix_guide_proposals_status_created", "guide_proposals", ["status", "created_at"]
    )
    # The search index as it first was: Snowball stems, every word, on both databases. It is
    # left empty here; 0013 gives it its present shape and fills it (this migration once
    # filled it by calling the app's code, which a migration must not: that code changes).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE guide_search USING fts5(kind UNINDEXED, item_id UNINDEXED,"
            " title, body, tokenize='unicode61 remove_diacritics 0')"
        )
    else:
        op.execute(
            "CREATE TABLE guide_search (kind varchar(10) NOT NULL, item_id integer NOT NULL,"
            " title text NOT NULL, body text NOT NULL, document tsvector GENERATED ALWAYS AS"
            " (setweight(to_tsvector('simple', title), 'A') ||"
            " setweight(to_tsvector('simple', body), 'B')) STORED,"
            " PRIMARY KEY (kind, item_id))"
        )
        op.execute("CREATE INDEX ix_guide_search_document ON guide_search USING gin (document)")


def downgrade() -> None:
    op.execute("DROP TABLE guide_search")
    op.drop_index("ix_guide_proposals_status_created", table_name="guide_proposals")
    op.drop_table("guide_proposals")
