"""The schema, as SQLAlchemy Core tables. Alembic migrations in ``migrations/`` create it.

Constraint names follow one convention so that migrations can name what they alter, on
SQLite (batch mode) as on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

from kith.storage.types import JSONType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("handle", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(200), nullable=False, server_default=""),
    sa.Column("department", sa.String(200), nullable=False, server_default=""),
    sa.Column("location", sa.String(200), nullable=False, server_default=""),
    sa.Column("manager_id", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("work_start", sa.Integer, nullable=False, server_default="540"),
    sa.Column("work_end", sa.Integer, nullable=False, server_default="1020"),
    sa.Column("work_days", sa.Integer, nullable=False, server_default="31"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("work_start >= 0 AND work_start < 1440", name="work_start_range"),
    sa.CheckConstraint("work_end >= 0 AND work_end < 1440", name="work_end_range"),
    sa.CheckConstraint("work_days > 0 AND work_days < 128", name="work_days_range"),
)
sa.Index("uq_people_email_lower", sa.func.lower(people.c.email), unique=True)
sa.Index("ix_people_department", people.c.department)
sa.Index("ix_people_location", people.c.location)
sa.Index("ix_people_manager_id", people.c.manager_id)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_changed_at", UTCDateTime),
    sa.CheckConstraint("role IN ('member', 'analyst', 'admin')", name="role_known"),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)
sa.Index("ix_tokens_person_id", tokens.c.person_id)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)
sa.Index("ix_login_failures_email_at", login_failures.c.email, login_failures.c.at)

spaces = sa.Table(
    "spaces",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.String(16), nullable=False, server_default="community"),
    sa.Column("visibility", sa.String(16), nullable=False, server_default="public"),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("archived_at", UTCDateTime),
    # Whether members see who has seen a post (authors always do).
    sa.Column("seen_by_visible", sa.Boolean, nullable=False, server_default=sa.false()),
    # The detected community the space was made from (its stable id), and the run that found it.
    sa.Column("community_id", sa.Integer),
    sa.Column("community_run_id", sa.Integer),
    sa.CheckConstraint("kind IN ('community', 'team', 'announcements')", name="kind_known"),
    sa.CheckConstraint("visibility IN ('public', 'private')", name="visibility_known"),
)

space_members = sa.Table(
    "space_members",
    metadata,
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("notification_level", sa.String(16), nullable=False, server_default="all"),
    sa.Column("joined_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('owner', 'member')", name="role_known"),
    sa.CheckConstraint("notification_level IN ('all', 'mentions', 'digest', 'mute')", name="level_known"),
)
sa.Index("ix_space_members_person_id", space_members.c.person_id)

topics = sa.Table(
    "topics",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("is_question", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("accepted_post_id", sa.Integer),
    sa.Column("accepted_at", UTCDateTime),
    # The first reply by someone other than the asker (time to first reply).
    sa.Column("first_reply_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_activity_at", UTCDateTime, nullable=False),
    sa.Column("post_count", sa.Integer, nullable=False, server_default="0"),
)
sa.Index("ix_topics_space_activity", topics.c.space_id, topics.c.last_activity_at, topics.c.id)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="CASCADE"), nullable=False),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("reply_to_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="SET NULL")),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    # Set when the post corrects an earlier post (whose viewers are told).
    sa.Column("correction_of_id", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("edited_at", UTCDateTime),
    sa.Column("deleted_at", UTCDateTime),
)
sa.Index("ix_posts_topic_id", posts.c.topic_id, posts.c.id)
sa.Index("ix_posts_space_id", posts.c.space_id, posts.c.id)
sa.Index("ix_posts_author_id", posts.c.author_id)
# Recent posts of a space by time (catch-up's busiest topics, metrics' windows).
sa.Index("ix_posts_space_id_created_at", posts.c.space_id, posts.c.created_at)

post_versions = sa.Table(
    "post_versions",
    metadata,
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("editor_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

mentions = sa.Table(
    "mentions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE")),
    sa.CheckConstraint("kind IN ('person', 'space')", name="kind_known"),
)
sa.Index("ix_mentions_person_id", mentions.c.person_id, mentions.c.post_id)
sa.Index("ix_mentions_post_id", mentions.c.post_id)

reactions = sa.Table(
    "reactions",
    metadata,
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("emoji", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE")),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    # Set for an event meant for one person only (their read pointer, receipts on their posts).
    sa.Column("audience_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE")),
    sqlite_autoincrement=True,
)
sa.Index("ix_events_space_id", events.c.space_id, events.c.id)

read_state = sa.Table(
    "read_state",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("last_read_post_id", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

post_seen = sa.Table(
    "post_seen",
    metadata,
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    # The first sighting as a member of the post's space (NULL: seen only from outside it).
    # Seen counts count these; leaving the space later does not undo one.
    sa.Column("member_seen_at", UTCDateTime),
)
sa.Index("ix_post_seen_person_id", post_seen.c.person_id)

# Presence: what each person's connections say, shared by every server process.
presence = sa.Table(
    "presence",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    # The status last published: online, idle, away or offline.
    sa.Column("status", sa.String(16), nullable=False, server_default="offline"),
    # Set by the person ("away"), kept until they clear it.
    sa.Column("away", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_active_at", UTCDateTime),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('online', 'idle', 'away', 'offline')", name="status_known"),
)

# Open connections per server process and person, renewed by the process while it lives.
presence_sessions = sa.Table(
    "presence_sessions",
    metadata,
    sa.Column("process_id", sa.String(64), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("connections", sa.Integer, nullable=False),
    sa.Column("renewed_at", UTCDateTime, nullable=False),
)
sa.Index("ix_presence_sessions_person_id", presence_sessions.c.person_id)
sa.Index("ix_presence_sessions_renewed_at", presence_sessions.c.renewed_at)

# The network: one row per interaction, never any content.
import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.String(500), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default="running"),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("stats", JSONType, nullable=False),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.CheckConstraint("kind IN ('email', 'slack', 'edges')", name="kind_known"),
    sa.CheckConstraint("status IN ('running', 'done', 'failed', 'undone')", name="status_known"),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    sa.Column("target_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("weight", sa.Float, nullable=False, server_default="1"),
    sa.Column("origin", sa.String(8), nullable=False),
    # Where, never what: a Message-ID, a Slack channel and timestamp, a topic id.
    sa.Column("context", sa.String(300), nullable=False, server_default=""),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("import_runs.id", ondelete="CASCADE")),
    # For imported interactions: a digest of what makes one unique, so a re-import adds nothing.
    sa.Column("dedupe_key", sa.String(32), unique=True),
    sa.CheckConstraint("origin IN ('kith', 'email', 'slack', 'csv')", name="origin_known"),
    sa.CheckConstraint("source_id <> target_id", name="not_self"),
    sa.CheckConstraint("weight > 0", name="weight_positive"),
)
sa.Index("ix_interactions_at", interactions.c.at)
sa.Index("ix_interactions_run_id", interactions.c.run_id)
sa.Index("ix_interactions_source_id", interactions.c.source_id)
sa.Index("ix_interactions_target_id", interactions.c.target_id)

# People first met in an import (an address of the organisation not in the directory).
discovered_people = sa.Table(
    "discovered_people",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False),
)
sa.Index("ix_discovered_people_run_id", discovered_people.c.run_id)

# Analysis runs and what they found.
analysis_runs = sa.Table(
    "analysis_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="running"),
    sa.Column("params", JSONType, nullable=False),
    sa.Column("since", UTCDateTime),
    sa.Column("until", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("summary", JSONType, nullable=False),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="status_known"),
)

analysis_communities = sa.Table(
    "analysis_communities",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_runs.id", ondelete="CASCADE"), primary_key=True),
    # Stable across runs: a community keeps its id while it continues, grows or shrinks.
    sa.Column("community_id", sa.Integer, primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("stability", sa.Float, nullable=False),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("details", JSONType, nullable=False),
)

analysis_members = sa.Table(
    "analysis_members",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("community_id", sa.Integer),
    sa.Column("sub_community", sa.Integer, nullable=False, server_default="0"),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("metrics", JSONType, nullable=False),
)
sa.Index(
    "ix_analysis_members_run_id_community_id", analysis_members.c.run_id, analysis_members.c.community_id
)
sa.Index("ix_analysis_members_person_id", analysis_members.c.person_id)

# Who looked at person-level results, and when.
analysis_access = sa.Table(
    "analysis_access",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("viewer_id", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_runs.id", ondelete="CASCADE")),
    sa.Column("what", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)
sa.Index("ix_analysis_access_at", analysis_access.c.at)

# The community loop (issue 5): spaces made from communities, facts, corrections,
# notifications, scheduled posts, question routing, daily metrics, digests.

# A person asked to join a space (a space made from a community invites its members).
space_invitations = sa.Table(
    "space_invitations",
    metadata,
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("invited_by", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("responded_at", UTCDateTime),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name="status_known"),
    sa.CheckConstraint("role IN ('owner', 'member')", name="role_known"),
)
sa.Index("ix_space_invitations_person_id", space_invitations.c.person_id, space_invitations.c.status)

# Facts (knowledge cards): owned, sourced, reviewed by a date; every edit a version.
facts = sa.Table(
    "facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("source_url", sa.String(2000), nullable=False, server_default=""),
    sa.Column("review_by", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("archived_at", UTCDateTime),
    # The review-by date the owner was last told about (told once per date).
    sa.Column("overdue_notified_for", sa.Date),
)
sa.Index("ix_facts_space_id", facts.c.space_id, facts.c.review_by)
sa.Index("ix_facts_owner_id", facts.c.owner_id)

fact_versions = sa.Table(
    "fact_versions",
    metadata,
    sa.Column("fact_id", sa.Integer, sa.ForeignKey("facts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("source_url", sa.String(2000), nullable=False, server_default=""),
    sa.Column("review_by", sa.Date, nullable=False),
    sa.Column("editor_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Who has seen which version of a fact: the highest version, the first and the last time.
fact_seen = sa.Table(
    "fact_seen",
    metadata,
    sa.Column("fact_id", sa.Integer, sa.ForeignKey("facts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
)
sa.Index("ix_fact_seen_person_id", fact_seen.c.person_id)

# A correction: a fact changed, or a post marked as correcting an earlier post.
corrections = sa.Table(
    "corrections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("fact_id", sa.Integer, sa.ForeignKey("facts.id", ondelete="CASCADE")),
    sa.Column("from_version", sa.Integer),
    sa.Column("to_version", sa.Integer),
    # The post corrected, and the post that corrects it.
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE")),
    sa.Column("correction_post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE")),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('fact', 'post')", name="kind_known"),
)
sa.Index("ix_corrections_space_id", corrections.c.space_id, corrections.c.created_at)

# Exactly the people who saw the earlier version, told when the correction was made.
correction_recipients = sa.Table(
    "correction_recipients",
    metadata,
    sa.Column(
        "correction_id", sa.Integer, sa.ForeignKey("corrections.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
)
sa.Index("ix_correction_recipients_person_id", correction_recipients.c.person_id)

# Notifications for one person each: mentions, replies, answers, corrections, @awake,
# routed questions, overdue facts, invitations. Held ones (outside the person's working
# hours, not urgent) wait for the next digest.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE")),
    sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="CASCADE")),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE")),
    sa.Column("fact_id", sa.Integer, sa.ForeignKey("facts.id", ondelete="CASCADE")),
    sa.Column("correction_id", sa.Integer, sa.ForeignKey("corrections.id", ondelete="CASCADE")),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("read_at", UTCDateTime),
    sa.Column("digested_at", UTCDateTime),
)
sa.Index("ix_notifications_person_id", notifications.c.person_id, notifications.c.id)
sa.Index("ix_notifications_topic_id", notifications.c.topic_id)

# Posts written now and sent later.
scheduled_posts = sa.Table(
    "scheduled_posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    # A reply in a topic, or (topic_id NULL) a new topic with this title.
    sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="CASCADE")),
    sa.Column("title", sa.String(300)),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("is_question", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reply_to_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="SET NULL")),
    sa.Column("correction_of_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="SET NULL")),
    sa.Column("send_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="SET NULL")),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.CheckConstraint("status IN ('pending', 'sent', 'cancelled', 'failed')", name="status_known"),
)
sa.Index("ix_scheduled_posts_status_send_at", scheduled_posts.c.status, scheduled_posts.c.send_at)
sa.Index("ix_scheduled_posts_author_id", scheduled_posts.c.author_id)

# A question whose asker asked Kith to route it; the circle widens while it stays unanswered.
question_routing = sa.Table(
    "question_routing",
    metadata,
    sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("requested_by", sa.Integer, sa.ForeignKey("people.id", ondelete="SET NULL")),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("stage", sa.Integer, nullable=False, server_default="1"),
    sa.Column("widen_at", UTCDateTime),
    sa.Column("done_at", UTCDateTime),
)
sa.Index("ix_question_routing_widen_at", question_routing.c.widen_at)

# The daily series of each space's information-velocity metrics (UTC days).
space_metrics_daily = sa.Table(
    "space_metrics_daily",
    metadata,
    sa.Column("space_id", sa.Integer, sa.ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("metrics", JSONType, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
)

# One digest per person and local working day.
digests = sa.Table(
    "digests",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("local_date", sa.Date, primary_key=True),
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("items", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="sent"),
    sa.CheckConstraint("status IN ('sent', 'empty', 'failed', 'off')", name="status_known"),
)

# Per-person preferences and state: last catch-up, the personal feed's secret, digest mail.
person_prefs = sa.Table(
    "person_prefs",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("caught_up_at", UTCDateTime),
    sa.Column("feed_token_hash", sa.String(64), unique=True),
    sa.Column("digest_email", sa.Boolean, nullable=False, server_default=sa.true()),
)
