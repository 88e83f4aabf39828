"""The community loop: spaces from communities, invitations, facts and their versions,
corrections, notifications, scheduled posts, question routing, daily metrics, digests.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kith.storage.types

UTC = kith.storage.types.UTCDateTime(timezone=True)
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("sent_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="sent", nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'empty', 'failed', 'off')", name=op.f("ck_digests_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_digests_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "local_date", name=op.f("pk_digests")),
    )
    op.create_table(
        "person_prefs",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("caught_up_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("feed_token_hash", sa.String(length=64), nullable=True),
        sa.Column("digest_email", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_prefs_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_prefs")),
        sa.UniqueConstraint("feed_token_hash", name=op.f("uq_person_prefs_feed_token_hash")),
    )
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("review_by", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_notified_for", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"], name=op.f("fk_facts_created_by_people")),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_facts_owner_id_people")),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_facts_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts")),
    )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.create_index("ix_facts_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_facts_space_id", ["space_id", "review_by"], unique=False)

    op.create_table(
        "space_invitations",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), server_default="member", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('owner', 'member')", name=op.f("ck_space_invitations_role_known")),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined')", name=op.f("ck_space_invitations_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["people.id"],
            name=op.f("fk_space_invitations_invited_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_space_invitations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_space_invitations_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("space_id", "person_id", name=op.f("pk_space_invitations")),
    )
    with op.batch_alter_table("space_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_space_invitations_person_id", ["person_id", "status"], unique=False)

    op.create_table(
        "space_metrics_daily",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metrics", kith.storage.types.JSONType, nullable=False),
        sa.Column("computed_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_space_metrics_daily_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("space_id", "day", name=op.f("pk_space_metrics_daily")),
    )
    op.create_table(
        "fact_seen",
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_fact_seen_fact_id_facts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_fact_seen_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("fact_id", "person_id", name=op.f("pk_fact_seen")),
    )
    with op.batch_alter_table("fact_seen", schema=None) as batch_op:
        batch_op.create_index("ix_fact_seen_person_id", ["person_id"], unique=False)

    op.create_table(
        "fact_versions",
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("review_by", sa.Date(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["editor_id"], ["people.id"], name=op.f("fk_fact_versions_editor_id_people")),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_fact_versions_fact_id_facts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_fact_versions_owner_id_people")),
        sa.PrimaryKeyConstraint("fact_id", "version", name=op.f("pk_fact_versions")),
    )
    op.create_table(
        "question_routing",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.Integer(), server_default="1", nullable=False),
        sa.Column("widen_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["people.id"],
            name=op.f("fk_question_routing_requested_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_question_routing_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_question_routing")),
    )
    with op.batch_alter_table("question_routing", schema=None) as batch_op:
        batch_op.create_index("ix_question_routing_widen_at", ["widen_at"], unique=False)

    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("fact_id", sa.Integer(), nullable=True),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("correction_post_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("recipients", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('fact', 'post')", name=op.f("ck_corrections_kind_known")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_corrections_author_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["correction_post_id"],
            ["posts.id"],
            name=op.f("fk_corrections_correction_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_corrections_fact_id_facts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_corrections_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_corrections_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index("ix_corrections_space_id", ["space_id", "created_at"], unique=False)

    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("is_question", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("correction_of_id", sa.Integer(), nullable=True),
        sa.Column("send_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'cancelled', 'failed')",
            name=op.f("ck_scheduled_posts_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_scheduled_posts_author_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["correction_of_id"],
            ["posts.id"],
            name=op.f("fk_scheduled_posts_correction_of_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_scheduled_posts_post_id_posts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["posts.id"],
            name=op.f("fk_scheduled_posts_reply_to_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_scheduled_posts_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_scheduled_posts_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_posts")),
    )
    with op.batch_alter_table("scheduled_posts", schema=None) as batch_op:
        batch_op.create_index("ix_scheduled_posts_author_id", ["author_id"], unique=False)
        batch_op.create_index("ix_scheduled_posts_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "correction_recipients",
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_correction_recipients_correction_id_corrections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_correction_recipients_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("correction_id", "person_id", name=op.f("pk_correction_recipients")),
    )
    with op.batch_alter_table("correction_recipients", schema=None) as batch_op:
        batch_op.create_index("ix_correction_recipients_person_id", ["person_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("fact_id", sa.Integer(), nullable=True),
        sa.Column("correction_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("payload", kith.storage.types.JSONType, nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("digested_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["people.id"], name=op.f("fk_notifications_actor_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_notifications_correction_id_corrections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_notifications_fact_id_facts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_notifications_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_notifications_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_notifications_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_notifications_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_person_id", ["person_id", "id"], unique=False)
        batch_op.create_index("ix_notifications_topic_id", ["topic_id"], unique=False)

    # Plain ADD/DROP COLUMN, never a batch copy: copying posts or spaces on SQLite would drop
    # the search triggers and cascade deletes into every table that refers to them. Hence no
    # foreign key on these columns (like topics.accepted_post_id).
    op.add_column("posts", sa.Column("correction_of_id", sa.Integer(), nullable=True))
    op.create_index("ix_posts_space_id_created_at", "posts", ["space_id", "created_at"], unique=False)
    op.add_column("spaces", sa.Column("community_id", sa.Integer(), nullable=True))
    op.add_column("spaces", sa.Column("community_run_id", sa.Integer(), nullable=True))
    op.add_column("topics", sa.Column("accepted_at", UTC, nullable=True))
    op.add_column("topics", sa.Column("first_reply_at", UTC, nullable=True))
    op.execute(
        "UPDATE topics SET first_reply_at = (SELECT MIN(posts.created_at) FROM posts"
        " WHERE posts.topic_id = topics.id AND posts.author_id <> topics.author_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_topic_id")
        batch_op.drop_index("ix_notifications_person_id")

    op.drop_table("notifications")
    with op.batch_alter_table("correction_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_correction_recipients_person_id")

    op.drop_table("correction_recipients")
    with op.batch_alter_table("scheduled_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_posts_status_send_at")
        batch_op.drop_index("ix_scheduled_posts_author_id")

    op.drop_table("scheduled_posts")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_corrections_space_id")

    op.drop_table("corrections")
    with op.batch_alter_table("question_routing", schema=None) as batch_op:
        batch_op.drop_index("ix_question_routing_widen_at")

    op.drop_table("question_routing")
    op.drop_table("fact_versions")
    with op.batch_alter_table("fact_seen", schema=None) as batch_op:
        batch_op.drop_index("ix_fact_seen_person_id")

    op.drop_table("fact_seen")
    op.drop_table("space_metrics_daily")
    with op.batch_alter_table("space_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_space_invitations_person_id")

    op.drop_table("space_invitations")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_index("ix_facts_space_id")
        batch_op.drop_index("ix_facts_owner_id")

    op.drop_table("facts")
    op.drop_table("person_prefs")
    op.drop_table("digests")
    op.drop_index("ix_posts_space_id_created_at", table_name="posts")
    for table, column in (
        ("topics", "first_reply_at"),
        ("topics", "accepted_at"),
        ("spaces", "community_run_id"),
        ("spaces", "community_id"),
        ("posts", "correction_of_id"),
    ):
        op.drop_column(table, column)
