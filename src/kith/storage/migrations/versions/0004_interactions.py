"""The network: import runs, interactions and people discovered in imports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("started_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stats", kith.storage.types.JSONType, nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('email', 'slack', 'edges')", name=op.f("ck_import_runs_kind_known")),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed', 'undone')", name=op.f("ck_import_runs_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_import_runs_created_by_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("context", sa.String(length=300), server_default="", nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "origin IN ('kith', 'email', 'slack', 'csv')", name=op.f("ck_interactions_origin_known")
        ),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_interactions_not_self")),
        sa.CheckConstraint("weight > 0", name=op.f("ck_interactions_weight_positive")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_runs.id"],
            name=op.f("fk_interactions_run_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["people.id"], name=op.f("fk_interactions_source_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["people.id"], name=op.f("fk_interactions_target_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_interactions_dedupe_key")),
    )
    op.create_index("ix_interactions_at", "interactions", ["at"], unique=False)
    op.create_index("ix_interactions_run_id", "interactions", ["run_id"], unique=False)
    op.create_index("ix_interactions_source_id", "interactions", ["source_id"], unique=False)
    op.create_index("ix_interactions_target_id", "interactions", ["target_id"], unique=False)
    op.create_table(
        "discovered_people",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_discovered_people_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_runs.id"],
            name=op.f("fk_discovered_people_run_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_discovered_people")),
    )
    op.create_index("ix_discovered_people_run_id", "discovered_people", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_discovered_people_run_id", table_name="discovered_people")
    op.drop_table("discovered_people")
    op.drop_index("ix_interactions_target_id", table_name="interactions")
    op.drop_index("ix_interactions_source_id", table_name="interactions")
    op.drop_index("ix_interactions_run_id", table_name="interactions")
    op.drop_index("ix_interactions_at", table_name="interactions")
    op.drop_table("interactions")
    op.drop_table("import_runs")
