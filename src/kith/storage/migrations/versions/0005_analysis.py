"""Analysis runs, their communities and members, and the log of person-level access.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = kith.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "analysis_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("params", kith.storage.types.JSONType, nullable=False),
        sa.Column("since", UTC, nullable=True),
        sa.Column("until", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("summary", kith.storage.types.JSONType, nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_analysis_runs_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_analysis_runs_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_runs")),
    )
    op.create_table(
        "analysis_communities",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stability", sa.Float(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("details", kith.storage.types.JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_runs.id"],
            name=op.f("fk_analysis_communities_run_id_analysis_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "community_id", name=op.f("pk_analysis_communities")),
    )
    op.create_table(
        "analysis_members",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("sub_community", sa.Integer(), server_default="0", nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("metrics", kith.storage.types.JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_analysis_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_runs.id"],
            name=op.f("fk_analysis_members_run_id_analysis_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "person_id", name=op.f("pk_analysis_members")),
    )
    op.create_index("ix_analysis_members_person_id", "analysis_members", ["person_id"], unique=False)
    op.create_index(
        "ix_analysis_members_run_id_community_id",
        "analysis_members",
        ["run_id", "community_id"],
        unique=False,
    )
    op.create_table(
        "analysis_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("viewer_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_runs.id"],
            name=op.f("fk_analysis_access_run_id_analysis_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"],
            ["people.id"],
            name=op.f("fk_analysis_access_viewer_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_access")),
    )
    op.create_index("ix_analysis_access_at", "analysis_access", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_analysis_access_at", table_name="analysis_access")
    op.drop_table("analysis_access")
    op.drop_index("ix_analysis_members_run_id_community_id", table_name="analysis_members")
    op.drop_index("ix_analysis_members_person_id", table_name="analysis_members")
    op.drop_table("analysis_members")
    op.drop_table("analysis_communities")
    op.drop_table("analysis_runs")
