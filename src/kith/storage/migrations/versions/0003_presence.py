"""Presence: each person's published status and each process's open connections.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="offline", nullable=False),
        sa.Column("away", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_active_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('online', 'idle', 'away', 'offline')", name=op.f("ck_presence_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_presence_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_presence")),
    )
    op.create_table(
        "presence_sessions",
        sa.Column("process_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("connections", sa.Integer(), nullable=False),
        sa.Column("renewed_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_presence_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("process_id", "person_id", name=op.f("pk_presence_sessions")),
    )
    op.create_index("ix_presence_sessions_person_id", "presence_sessions", ["person_id"], unique=False)
    op.create_index("ix_presence_sessions_renewed_at", "presence_sessions", ["renewed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_presence_sessions_renewed_at", table_name="presence_sessions")
    op.drop_index("ix_presence_sessions_person_id", table_name="presence_sessions")
    op.drop_table("presence_sessions")
    op.drop_table("presence")
