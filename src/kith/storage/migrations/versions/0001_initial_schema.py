"""Initial schema: people, accounts, spaces, topics, posts, reactions, mentions, events, search.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kith.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_email_at", ["email", "at"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("department", sa.String(length=200), server_default="", nullable=False),
        sa.Column("location", sa.String(length=200), server_default="", nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("work_start", sa.Integer(), server_default="540", nullable=False),
        sa.Column("work_end", sa.Integer(), server_default="1020", nullable=False),
        sa.Column("work_days", sa.Integer(), server_default="31", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("work_days > 0 AND work_days < 128", name=op.f("ck_people_work_days_range")),
        sa.CheckConstraint("work_end >= 0 AND work_end < 1440", name=op.f("ck_people_work_end_range")),
        sa.CheckConstraint("work_start >= 0 AND work_start < 1440", name=op.f("ck_people_work_start_range")),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_people_manager_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("handle", name=op.f("uq_people_handle")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index("ix_people_department", ["department"], unique=False)
        batch_op.create_index("ix_people_location", ["location"], unique=False)
        batch_op.create_index("ix_people_manager_id", ["manager_id"], unique=False)
    op.create_index("uq_people_email_lower", "people", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "accounts",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="member", nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('member', 'analyst', 'admin')", name=op.f("ck_accounts_role_known")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_accounts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "spaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="community", nullable=False),
        sa.Column("visibility", sa.String(length=16), server_default="public", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('community', 'team', 'announcements')", name=op.f("ck_spaces_kind_known")
        ),
        sa.CheckConstraint("visibility IN ('public', 'private')", name=op.f("ck_spaces_visibility_known")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_spaces_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spaces")),
        sa.UniqueConstraint("slug", name=op.f("uq_spaces_slug")),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_tokens_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tokens_token_hash")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index("ix_tokens_person_id", ["person_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["people.id"], name=op.f("fk_events_actor_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_events_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_space_id", ["space_id", "id"], unique=False)

    op.create_table(
        "space_members",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="member", nullable=False),
        sa.Column("notification_level", sa.String(length=16), server_default="all", nullable=False),
        sa.Column("joined_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "notification_level IN ('all', 'mentions', 'digest', 'mute')",
            name=op.f("ck_space_members_level_known"),
        ),
        sa.CheckConstraint("role IN ('owner', 'member')", name=op.f("ck_space_members_role_known")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_space_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_space_members_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("space_id", "person_id", name=op.f("pk_space_members")),
    )
    with op.batch_alter_table("space_members", schema=None) as batch_op:
        batch_op.create_index("ix_space_members_person_id", ["person_id"], unique=False)

    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("is_question", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("resolved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("accepted_post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("post_count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_topics_author_id_people")),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_topics_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_topics_space_activity", ["space_id", "last_activity_at", "id"], unique=False
        )

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", kith.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_posts_author_id_people")),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["posts.id"],
            name=op.f("fk_posts_reply_to_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_posts_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_posts_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_author_id", ["author_id"], unique=False)
        batch_op.create_index("ix_posts_space_id", ["space_id", "id"], unique=False)
        batch_op.create_index("ix_posts_topic_id", ["topic_id", "id"], unique=False)

    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('person', 'space')", name=op.f("ck_mentions_kind_known")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_mentions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_mentions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentions")),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_person_id", ["person_id", "post_id"], unique=False)
        batch_op.create_index("ix_mentions_post_id", ["post_id"], unique=False)

    op.create_table(
        "post_versions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["editor_id"], ["people.id"], name=op.f("fk_post_versions_editor_id_people")),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_versions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "version", name=op.f("pk_post_versions")),
    )
    op.create_table(
        "reactions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=False),
        sa.Column("created_at", kith.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reactions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_reactions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "person_id", "emoji", name=op.f("pk_reactions")),
    )
    _create_search()


def _create_search() -> None:
    """Full-text search over posts: FTS5 kept by triggers on SQLite, a tsvector on PostgreSQL."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE posts_fts USING fts5("
            "source, content='posts', content_rowid='id', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN "
            "INSERT INTO posts_fts(rowid, source) VALUES (new.id, new.source); END"
        )
        op.execute(
            "CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN "
            "INSERT INTO posts_fts(posts_fts, rowid, source) VALUES ('delete', old.id, old.source); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER posts_fts_update AFTER UPDATE OF source ON posts BEGIN "
            "INSERT INTO posts_fts(posts_fts, rowid, source) VALUES ('delete', old.id, old.source); "
            "INSERT INTO posts_fts(rowid, source) VALUES (new.id, new.source); END"
        )
    else:
        op.execute(
            "ALTER TABLE posts ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', source)) STORED"
        )
        op.execute("CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("posts_fts_insert", "posts_fts_delete", "posts_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS posts_fts")
    op.drop_index("uq_people_email_lower", table_name="people")
    op.drop_table("reactions")
    op.drop_table("post_versions")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_post_id")
        batch_op.drop_index("ix_mentions_person_id")

    op.drop_table("mentions")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_topic_id")
        batch_op.drop_index("ix_posts_space_id")
        batch_op.drop_index("ix_posts_author_id")

    op.drop_table("posts")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("ix_topics_space_activity")

    op.drop_table("topics")
    with op.batch_alter_table("space_members", schema=None) as batch_op:
        batch_op.drop_index("ix_space_members_person_id")

    op.drop_table("space_members")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_space_id")

    op.drop_table("events")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_tokens_person_id")

    op.drop_table("tokens")
    op.drop_table("spaces")
    op.drop_table("accounts")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_manager_id")
        batch_op.drop_index("ix_people_location")
        batch_op.drop_index("ix_people_department")

    op.drop_table("people")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_email_at")

    op.drop_table("login_failures")
