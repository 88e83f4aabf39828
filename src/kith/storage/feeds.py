"""What the Atom feeds list: a space's recent posts with their topics and authors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.storage.tables import people, posts, topics


def recent_posts(conn: Connection, space_id: int, limit: int) -> list[dict[str, Any]]:
    """The space's newest live posts, newest first, each with its topic's title and whether
    it opened the topic, and its author's name."""
    earlier = posts.alias("earlier")
    first_id = sa.select(sa.func.min(earlier.c.id)).where(earlier.c.topic_id == topics.c.id).scalar_subquery()
    query = (
        sa.select(
            posts.c.id,
            posts.c.topic_id,
            posts.c.author_id,
            posts.c.html,
            posts.c.urgent,
            posts.c.created_at,
            posts.c.edited_at,
            topics.c.title,
            (posts.c.id == first_id).label("opens_topic"),
            people.c.display_name,
        )
        .select_from(
            posts.join(topics, topics.c.id == posts.c.topic_id).join(people, people.c.id == posts.c.author_id)
        )
        .where(posts.c.space_id == space_id, posts.c.deleted_at.is_(None))
        .order_by(posts.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
