"""Scheduled posts: written now, sent later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import ScheduledPost
from kith.storage.tables import scheduled_posts


def from_row(row: RowMapping) -> ScheduledPost:
    return ScheduledPost(
        id=row["id"],
        author_id=row["author_id"],
        space_id=row["space_id"],
        topic_id=row["topic_id"],
        title=row["title"],
        source=row["source"],
        is_question=bool(row["is_question"]),
        urgent=bool(row["urgent"]),
        reply_to_id=row["reply_to_id"],
        correction_of_id=row["correction_of_id"],
        send_at=row["send_at"],
        status=row["status"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        post_id=row["post_id"],
        error=row["error"],
    )


def insert(conn: Connection, values: dict[str, Any]) -> ScheduledPost:
    query = sa.insert(scheduled_posts).values(**values).returning(*scheduled_posts.c)
    return from_row(conn.execute(query).mappings().one())


def get(conn: Connection, scheduled_id: int) -> ScheduledPost | None:
    row = conn.execute(sa.select(scheduled_posts).where(scheduled_posts.c.id == scheduled_id)).mappings()
    found = row.first()
    return from_row(found) if found else None


def update(conn: Connection, scheduled_id: int, values: dict[str, Any]) -> ScheduledPost:
    query = (
        sa.update(scheduled_posts)
        .where(scheduled_posts.c.id == scheduled_id)
        .values(**values)
        .returning(*scheduled_posts.c)
    )
    return from_row(conn.execute(query).mappings().one())


def list_for(conn: Connection, author_id: int, *, status: str | None, limit: int) -> list[ScheduledPost]:
    """The author's scheduled posts: pending ones first, soonest first; then the rest, latest first."""
    pending = scheduled_posts.c.status == "pending"
    query = (
        sa.select(scheduled_posts)
        .where(scheduled_posts.c.author_id == author_id)
        .order_by(
            sa.case((pending, 0), else_=1),
            sa.case((pending, scheduled_posts.c.send_at), else_=None),
            scheduled_posts.c.send_at.desc(),
            scheduled_posts.c.id.desc(),
        )
        .limit(limit)
    )
    if status is not None:
        query = query.where(scheduled_posts.c.status == status)
    return [from_row(row) for row in conn.execute(query).mappings()]


def due(conn: Connection, now: datetime, *, limit: int) -> list[int]:
    """Ids of pending posts due at ``now``, the longest due first."""
    query = (
        sa.select(scheduled_posts.c.id)
        .where(scheduled_posts.c.status == "pending", scheduled_posts.c.send_at <= now)
        .order_by(scheduled_posts.c.send_at, scheduled_posts.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def claim(conn: Connection, scheduled_id: int, now: datetime) -> ScheduledPost | None:
    """Take a due post for sending: marks it sent and returns it, or None if it is no longer
    pending and due. One conditional UPDATE, so of two processes only one gets the row (the
    other's UPDATE waits for the first's transaction and then matches nothing)."""
    query = (
        sa.update(scheduled_posts)
        .where(
            scheduled_posts.c.id == scheduled_id,
            scheduled_posts.c.status == "pending",
            scheduled_posts.c.send_at <= now,
        )
        .values(status="sent", sent_at=now)
        .returning(*scheduled_posts.c)
    )
    row = conn.execute(query).mappings().first()
    return from_row(row) if row else None
