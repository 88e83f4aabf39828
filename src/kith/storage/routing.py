"""Question routing: who answered what in a space, its reply network, and routed questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import QuestionRouting
from kith.storage.tables import people, posts, question_routing, space_members, topics


def from_row(row: RowMapping) -> QuestionRouting:
    return QuestionRouting(
        topic_id=row["topic_id"],
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        stage=row["stage"],
        widen_at=row["widen_at"],
        done_at=row["done_at"],
    )


def answerers(conn: Connection, space_id: int) -> list[tuple[int, int | None, int | None]]:
    """For each question of the space: (topic id, author of its first reply by someone other
    than the asker, author of its accepted answer); deleted posts count for nothing."""
    first = (
        sa.select(posts.c.topic_id, sa.func.min(posts.c.id).label("post_id"))
        .select_from(posts.join(topics, topics.c.id == posts.c.topic_id))
        .where(
            topics.c.space_id == space_id,
            topics.c.is_question.is_(True),
            posts.c.author_id != topics.c.author_id,
            posts.c.deleted_at.is_(None),
        )
        .group_by(posts.c.topic_id)
        .subquery()
    )
    first_post = posts.alias("first_post")
    answer = posts.alias("answer")
    query = (
        sa.select(topics.c.id, first_post.c.author_id, answer.c.author_id)
        .select_from(
            topics.outerjoin(first, first.c.topic_id == topics.c.id)
            .outerjoin(first_post, first_post.c.id == first.c.post_id)
            .outerjoin(
                answer, sa.and_(answer.c.id == topics.c.accepted_post_id, answer.c.deleted_at.is_(None))
            )
        )
        .where(topics.c.space_id == space_id, topics.c.is_question.is_(True))
        .order_by(topics.c.id)
    )
    return [(row[0], row[1], row[2]) for row in conn.execute(query)]


def reply_pairs(conn: Connection, space_id: int) -> set[tuple[int, int]]:
    """Who replied to whom in the space: (author, the author of the post replied to, or of
    the topic for a plain reply), distinct, without self-pairs."""
    replied = posts.alias("replied")
    partner = sa.func.coalesce(replied.c.author_id, topics.c.author_id)
    query = (
        sa.select(posts.c.author_id, partner)
        .select_from(
            posts.join(topics, topics.c.id == posts.c.topic_id).outerjoin(
                replied, replied.c.id == posts.c.reply_to_id
            )
        )
        .where(posts.c.space_id == space_id, posts.c.deleted_at.is_(None), posts.c.author_id != partner)
        .distinct()
    )
    return {(row[0], row[1]) for row in conn.execute(query)}


def candidates(conn: Connection, space_id: int) -> list[RowMapping]:
    """Active members of the space who have not muted it, with their directory row."""
    query = (
        sa.select(people)
        .join(space_members, space_members.c.person_id == people.c.id)
        .where(
            space_members.c.space_id == space_id,
            space_members.c.notification_level != "mute",
            people.c.active.is_(True),
        )
        .order_by(people.c.id)
    )
    return list(conn.execute(query).mappings())


def get(conn: Connection, topic_id: int) -> QuestionRouting | None:
    row = conn.execute(sa.select(question_routing).where(question_routing.c.topic_id == topic_id)).mappings()
    found = row.first()
    return from_row(found) if found else None


def upsert(
    conn: Connection, topic_id: int, *, requested_by: int, now: datetime, widen_at: datetime
) -> QuestionRouting:
    """Start routing a question (stage 1), or restart the clock of one already routed."""
    existing = get(conn, topic_id)
    if existing is None:
        values: dict[str, Any] = {
            "topic_id": topic_id,
            "requested_by": requested_by,
            "requested_at": now,
            "stage": 1,
            "widen_at": widen_at,
        }
        conn.execute(sa.insert(question_routing).values(**values))
    else:
        conn.execute(
            sa.update(question_routing)
            .where(question_routing.c.topic_id == topic_id)
            .values(widen_at=widen_at, done_at=None)
        )
    found = get(conn, topic_id)
    assert found is not None
    return found


def update(conn: Connection, topic_id: int, values: dict[str, Any]) -> QuestionRouting:
    query = (
        sa.update(question_routing)
        .where(question_routing.c.topic_id == topic_id)
        .values(**values)
        .returning(*question_routing.c)
    )
    return from_row(conn.execute(query).mappings().one())


def due(conn: Connection, now: datetime, *, limit: int) -> list[int]:
    """Topics whose routing is due to widen at ``now``, the longest due first."""
    query = (
        sa.select(question_routing.c.topic_id)
        .where(question_routing.c.done_at.is_(None), question_routing.c.widen_at <= now)
        .order_by(question_routing.c.widen_at, question_routing.c.topic_id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def claim_due(conn: Connection, topic_id: int, now: datetime) -> QuestionRouting | None:
    """The routing of ``topic_id`` if it is still due (read inside the writer's transaction,
    so a second process finds it already moved on)."""
    query = sa.select(question_routing).where(
        question_routing.c.topic_id == topic_id,
        question_routing.c.done_at.is_(None),
        question_routing.c.widen_at <= now,
    )
    row = conn.execute(query).mappings().first()
    return from_row(row) if row else None
