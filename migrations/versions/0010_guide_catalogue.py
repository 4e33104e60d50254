"""The development guide as a catalogue: examples, tips, processes, challenges (issue 12).

Examples get an organisation type, a region, a fact box, activities, results and lessons
(JSON arrays of strings), a contact person's role and phone, a language and their published
and updated dates; challenges get an order. New: numbered tips with reflection questions and
their examples, processes in phases and steps with their examples, and links from events to
a tip or a process.

Existing examples keep every value: the new text columns start empty, the lists empty, the
dates at the day of the migration, and the organisation type is read from the organisation's
name where it says it ("… kommun", "Region …", "Länsstyrelsen …"), else left unknown (NULL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORGANISATION_TYPES = ("kommun", "region", "lansstyrelse", "myndighet")
# Filled in on existing rows, then dropped: the models give every new row its values.
FILLED: dict[str, sa.TextClause] = {
    "region": sa.text("''"),
    "activities": sa.text("'[]'"),
    "results": sa.text("'[]'"),
    "lessons": sa.text("'[]'"),
    "contact_role": sa.text("''"),
    "contact_phone": sa.text("''"),
    "language": sa.text("'sv'"),
}
FILLED_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "region": sa.String(length=100),
    "activities": sa.JSON(),
    "results": sa.JSON(),
    "lessons": sa.JSON(),
    "contact_role": sa.String(length=200),
    "contact_phone": sa.String(length=40),
    "language": sa.String(length=8),
}


def upgrade() -> None:
    op.create_table(
        "guide_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_processes")),
        sa.UniqueConstraint("slug", name=op.f("uq_guide_processes_slug")),
    )
    op.create_table(
        "guide_tips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_tips")),
        sa.UniqueConstraint("slug", name=op.f("uq_guide_tips_slug")),
    )
    op.create_table(
        "guide_process_challenges",
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_guide_process_challenges_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["guide_processes.id"],
            name=op.f("fk_guide_process_challenges_process_id_guide_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "process_id", "challenge_id", name=op.f("pk_guide_process_challenges")
        ),
    )
    op.create_table(
        "guide_process_phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["guide_processes.id"],
            name=op.f("fk_guide_process_phases_process_id_guide_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_process_phases")),
    )
    with op.batch_alter_table("guide_process_phases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guide_process_phases_process_id"), ["process_id"], unique=False
        )
    op.create_table(
        "guide_tip_challenges",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_guide_tip_challenges_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["guide_tips.id"],
            name=op.f("fk_guide_tip_challenges_tip_id_guide_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tip_id", "challenge_id", name=op.f("pk_guide_tip_challenges")),
    )
    op.create_table(
        "guide_tip_examples",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["guide_examples.id"],
            name=op.f("fk_guide_tip_examples_example_id_guide_examples"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["guide_tips.id"],
            name=op.f("fk_guide_tip_examples_tip_id_guide_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tip_id", "example_id", name=op.f("pk_guide_tip_examples")),
    )
    with op.batch_alter_table("guide_tip_examples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guide_tip_examples_example_id"), ["example_id"], unique=False
        )
    op.create_table(
        "event_method_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(tip_id IS NULL) <> (process_id IS NULL)",
            name=op.f("ck_event_method_links_one_method"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_method_links_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["guide_processes.id"],
            name=op.f("fk_event_method_links_process_id_guide_processes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["guide_tips.id"],
            name=op.f("fk_event_method_links_tip_id_guide_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_method_links")),
        sa.UniqueConstraint(
            "event_id", "process_id", name=op.f("uq_event_method_links_event_id_process_id")
        ),
        sa.UniqueConstraint(
            "event_id", "tip_id", name=op.f("uq_event_method_links_event_id_tip_id")
        ),
    )
    with op.batch_alter_table("event_method_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_method_links_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_method_links_process_id"), ["process_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_method_links_tip_id"), ["tip_id"], unique=False)
    op.create_table(
        "guide_process_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phase_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["phase_id"],
            ["guide_process_phases.id"],
            name=op.f("fk_guide_process_steps_phase_id_guide_process_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_process_steps")),
    )
    with op.batch_alter_table("guide_process_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guide_process_steps_phase_id"), ["phase_id"], unique=False
        )
    op.create_table(
        "guide_step_examples",
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["guide_examples.id"],
            name=op.f("fk_guide_step_examples_example_id_guide_examples"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["guide_process_steps.id"],
            name=op.f("fk_guide_step_examples_step_id_guide_process_steps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("step_id", "example_id", name=op.f("pk_guide_step_examples")),
    )
    with op.batch_alter_table("guide_step_examples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guide_step_examples_example_id"), ["example_id"], unique=False
        )

    # Columns of existing tables are added in place, never by copying the table (Alembic's
    # batch mode on SQLite): dropping the old copy of guide_examples or challenges would fire
    # ON DELETE CASCADE (foreign keys are on, foundation.database) and take every example's
    # challenges and every event's linked examples with it.
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Existing challenges keep their alphabetical order (all at 0, ties by name).
    op.add_column(
        "challenges",
        sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    for column, value in FILLED.items():
        op.add_column(
            "guide_examples",
            sa.Column(column, FILLED_TYPES[column], nullable=False, server_default=value),
        )
    # Existing examples are dated the day of the migration (SQLite adds a NOT NULL column
    # only with a constant default).
    migrated_on = sa.text(f"'{date.today().isoformat()}'")
    for column in ("published_on", "updated_on"):
        op.add_column(
            "guide_examples",
            sa.Column(column, sa.Date(), nullable=False, server_default=migrated_on),
        )
    for column, column_type in (
        ("inhabitants", sa.Integer()),
        ("project_owner", sa.String(length=200)),
        ("project_period", sa.String(length=100)),
        ("funding", sa.String(length=300)),
    ):
        op.add_column("guide_examples", sa.Column(column, column_type, nullable=True))
    kinds = ", ".join(f"'{kind}'" for kind in ORGANISATION_TYPES)
    if sqlite:
        # SQLite adds no constraint to a table, but a new column may carry its own.
        op.execute(
            "ALTER TABLE guide_examples ADD COLUMN organisation_type VARCHAR(20)"
            f" CONSTRAINT ck_guide_examples_organisation_type"
            f" CHECK (organisation_type IN ({kinds}))"
        )
    else:
        op.add_column(
            "guide_examples", sa.Column("organisation_type", sa.String(length=20), nullable=True)
        )
        op.create_check_constraint(
            op.f("ck_guide_examples_organisation_type"),
            "guide_examples",
            f"organisation_type IN ({kinds})",
        )
        # The models give every new row its values; SQLite keeps the defaults, as dropping
        # one there means copying the table.
        op.alter_column("challenges", "position", server_default=None)
        for column in [*FILLED, "published_on", "updated_on"]:
            op.alter_column("guide_examples", column, server_default=None)

    examples = sa.table(
        "guide_examples",
        sa.column("organisation", sa.String()),
        sa.column("organisation_type", sa.String()),
    )
    organisation = sa.func.lower(examples.c.organisation)
    for kind, pattern in (
        ("kommun", "% kommun"),
        ("region", "region %"),
        ("lansstyrelse", "länsstyrelsen %"),
    ):
        op.execute(
            examples.update()
            .where(examples.c.organisation_type.is_(None), organisation.like(pattern))
            .values(organisation_type=kind)
        )


def downgrade() -> None:
    # In place, for the reason upgrade() gives (SQLite drops a column itself since 3.35).
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("ck_guide_examples_organisation_type"), "guide_examples", type_="check"
        )
    for column in (
        "organisation_type",
        "funding",
        "project_period",
        "project_owner",
        "inhabitants",
        "updated_on",
        "published_on",
        *reversed(FILLED),
    ):
        op.drop_column("guide_examples", column)
    op.drop_column("challenges", "position")

    with op.batch_alter_table("guide_step_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_step_examples_example_id"))
    op.drop_table("guide_step_examples")
    with op.batch_alter_table("guide_process_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_process_steps_phase_id"))
    op.drop_table("guide_process_steps")
    with op.batch_alter_table("event_method_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_method_links_tip_id"))
        batch_op.drop_index(batch_op.f("ix_event_method_links_process_id"))
        batch_op.drop_index(batch_op.f("ix_event_method_links_event_id"))
    op.drop_table("event_method_links")
    with op.batch_alter_table("guide_tip_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_tip_examples_example_id"))
    op.drop_table("guide_tip_examples")
    op.drop_table("guide_tip_challenges")
    with op.batch_alter_table("guide_process_phases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_process_phases_process_id"))
    op.drop_table("guide_process_phases")
    op.drop_table("guide_process_challenges")
    op.drop_table("guide_tips")
    op.drop_table("guide_processes")
