"""Topics (threads) in a space."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Membership, Space, Topic
from kith.storage import spaces as spaces_store
from kith.storage.tables import space_members, spaces, topics
from kith.storage.types import UTCDateTime


def from_row(row: RowMapping) -> Topic:
    return Topic(
        id=row["id"],
        space_id=row["space_id"],
        title=row["title"],
        author_id=row["author_id"],
        is_question=bool(row["is_question"]),
        resolved=bool(row["resolved"]),
        accepted_post_id=row["accepted_post_id"],
        created_at=row["created_at"],
        last_activity_at=row["last_activity_at"],
        post_count=row["post_count"],
        accepted_at=row["accepted_at"],
        first_reply_at=row["first_reply_at"],
    )


_GET = sa.select(topics).where(topics.c.id == sa.bindparam("b_topic_id"))
_GET_IN_SPACE = (
    sa.select(topics, *spaces_store.WITH_MEMBERSHIP_COLUMNS)
    .select_from(
        topics.join(spaces, spaces.c.id == topics.c.space_id).outerjoin(
            space_members, spaces_store.MEMBERSHIP_OF_PERSON
        )
    )
    .where(topics.c.id == sa.bindparam("b_topic_id"))
)
_RECORD_POST = (
    sa.update(topics)
    .where(topics.c.id == sa.bindparam("b_topic_id"))
    .values(
        post_count=topics.c.post_count + 1,
        last_activity_at=sa.bindparam("b_at", type_=UTCDateTime),
        first_reply_at=sa.case(
            (
                sa.and_(
                    topics.c.first_reply_at.is_(None),
                    topics.c.post_count > 0,
                    topics.c.author_id != sa.bindparam("b_author_id"),
                ),
                sa.bindparam("b_at", type_=UTCDateTime),
            ),
            else_=topics.c.first_reply_at,
        ),
    )
)


def get(conn: Connection, topic_id: int) -> Topic | None:
    row = conn.execute(_GET, {"b_topic_id": topic_id}).mappings().first()
    return from_row(row) if row else None


def get_in_space(
    conn: Connection, topic_id: int, person_id: int
) -> tuple[Topic, Space, Membership | None] | None:
    """The topic, its space and the person's membership of the space, in one query."""
    row = conn.execute(_GET_IN_SPACE, {"b_topic_id": topic_id, "b_person_id": person_id}).mappings().first()
    if row is None:
        return None
    return (from_row(row), *spaces_store.with_membership_from_row(row, person_id))


def insert(conn: Connection, values: dict[str, Any]) -> Topic:
    row = conn.execute(sa.insert(topics).values(**values).returning(*topics.c)).mappings().one()
    return from_row(row)


def update(conn: Connection, topic_id: int, values: dict[str, Any]) -> Topic:
    query = sa.update(topics).where(topics.c.id == topic_id).values(**values).returning(*topics.c)
    return from_row(conn.execute(query).mappings().one())


def record_post(conn: Connection, topic_id: int, at: datetime, author_id: int) -> None:
    """Count one more post and move the topic's last activity to ``at``.

    The first post by someone other than the topic's author is its first reply.
    """
    conn.execute(_RECORD_POST, {"b_topic_id": topic_id, "b_at": at, "b_author_id": author_id})


def forget_post(conn: Connection, topic_id: int) -> None:
    conn.execute(sa.update(topics).where(topics.c.id == topic_id).values(post_count=topics.c.post_count - 1))


def list_in_space(
    conn: Connection,
    space_id: int,
    *,
    questions_only: bool,
    unresolved_only: bool,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Topic]:
    """Topics by latest activity first; ``after`` is the (activity, id) of the previous page's end."""
    query = (
        sa.select(topics)
        .where(topics.c.space_id == space_id)
        .order_by(topics.c.last_activity_at.desc(), topics.c.id.desc())
        .limit(limit)
    )
    if questions_only:
        query = query.where(topics.c.is_question.is_(True))
    if unresolved_only:
        query = query.where(topics.c.resolved.is_(False))
    if after is not None:
        at, topic_id = after
        query = query.where(
            sa.or_(
                topics.c.last_activity_at < at,
                sa.and_(topics.c.last_activity_at == at, topics.c.id < topic_id),
            )
        )
    return [from_row(row) for row in conn.execute(query).mappings()]
