"""Seen receipts remember the first sighting as a member of the post's space.

Seen counts count people who saw a post while members of its space, and no longer fall when
one of them leaves. Existing sightings by people who are members now count from their first
sighting (which is what the old counts, of current members, showed).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "post_seen",
        sa.Column("member_seen_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.execute(
        "UPDATE post_seen SET member_seen_at = seen_at WHERE EXISTS ("
        " SELECT 1 FROM posts JOIN space_members ON space_members.space_id = posts.space_id"
        " WHERE posts.id = post_seen.post_id AND space_members.person_id = post_seen.person_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("post_seen") as batch_op:
        batch_op.drop_column("member_seen_at")
