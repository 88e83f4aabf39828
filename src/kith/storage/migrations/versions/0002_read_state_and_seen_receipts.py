"""Read state, seen receipts, personal events, and whether members see who has seen a post.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_state",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("last_read_post_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_read_state_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_read_state_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "space_id", name=op.f("pk_read_state")),
    )
    op.create_table(
        "post_seen",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_post_seen_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_seen_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "person_id", name=op.f("pk_post_seen")),
    )
    op.create_index("ix_post_seen_person_id", "post_seen", ["person_id"], unique=False)
    # On SQLite, batch mode copies the table; the log must keep AUTOINCREMENT (ids never reused).
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("audience_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_events_audience_id_people"), "people", ["audience_id"], ["id"], ondelete="CASCADE"
        )
    op.add_column(
        "spaces", sa.Column("seen_by_visible", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("spaces") as batch_op:
        batch_op.drop_column("seen_by_visible")
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_audience_id_people"), type_="foreignkey")
        batch_op.drop_column("audience_id")
    op.drop_index("ix_post_seen_person_id", table_name="post_seen")
    op.drop_table("post_seen")
    op.drop_table("read_state")
