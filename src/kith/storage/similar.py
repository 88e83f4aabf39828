"""The similar-questions corpus: topics (title, first post, accepted answer) and facts."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.domain.models import SimilarDoc
from kith.storage.tables import events, facts, posts, spaces, topics

# The events after which the corpus may read differently: a topic started, accepted or
# resolved; a post edited or deleted (a first post or an accepted answer); any fact event.
CORPUS_EVENTS = ("topic.created", "topic.updated", "post.edited", "post.deleted")


def topic_docs(conn: Connection, space_ids: Collection[int]) -> list[SimilarDoc]:
    """Every topic of ``space_ids`` with the text of its first post and accepted answer."""
    if not space_ids:
        return []
    ids = sorted(space_ids)
    first = (
        sa.select(posts.c.topic_id, sa.func.min(posts.c.id).label("first_id"))
        .where(posts.c.space_id.in_(ids))
        .group_by(posts.c.topic_id)
        .subquery()
    )
    opening = posts.alias("opening")
    answer = posts.alias("answer")
    query = (
        sa.select(
            topics,
            opening.c.source.label("first_source"),
            opening.c.deleted_at.label("first_deleted_at"),
            answer.c.source.label("answer_source"),
            answer.c.deleted_at.label("answer_deleted_at"),
        )
        .select_from(
            topics.outerjoin(first, first.c.topic_id == topics.c.id)
            .outerjoin(opening, opening.c.id == first.c.first_id)
            .outerjoin(answer, answer.c.id == topics.c.accepted_post_id)
        )
        .where(topics.c.space_id.in_(ids))
        .order_by(topics.c.id)
    )
    docs = []
    for row in conn.execute(query).mappings():
        opening_text = row["first_source"] if row["first_deleted_at"] is None else ""
        answer_text = row["answer_source"] if row["answer_deleted_at"] is None else ""
        docs.append(
            SimilarDoc(
                kind="topic",
                id=row["id"],
                space_id=row["space_id"],
                title=row["title"],
                text="\n".join((row["title"], opening_text or "", answer_text or "")),
                excerpt_source=opening_text or "",
                created_at=row["created_at"],
                is_question=bool(row["is_question"]),
                resolved=bool(row["resolved"]),
                accepted_post_id=row["accepted_post_id"],
                first_reply_at=row["first_reply_at"],
                post_count=row["post_count"],
            )
        )
    return docs


def fact_docs(conn: Connection, space_ids: Collection[int]) -> list[SimilarDoc]:
    """Every fact of ``space_ids`` that is not archived."""
    if not space_ids:
        return []
    query = (
        sa.select(facts)
        .where(facts.c.space_id.in_(sorted(space_ids)), facts.c.archived_at.is_(None))
        .order_by(facts.c.id)
    )
    return [
        SimilarDoc(
            kind="fact",
            id=row["id"],
            space_id=row["space_id"],
            title=row["title"],
            text=f"{row['title']}\n{row['source']}",
            excerpt_source=row["source"],
            created_at=row["created_at"],
            review_by=row["review_by"],
        )
        for row in conn.execute(query).mappings()
    ]


def changed_since(conn: Connection, after_event_id: int) -> bool:
    """Whether an event after ``after_event_id`` may have changed the corpus.

    Reads the log from ``after_event_id`` on (a range of the primary key), so the cost is
    the number of events since the last look, not the size of the log.
    """
    query = (
        sa.select(events.c.id)
        .where(
            events.c.id > after_event_id,
            sa.or_(events.c.type.in_(CORPUS_EVENTS), events.c.type.like("fact.%")),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def space_names(conn: Connection, space_ids: Collection[int]) -> dict[int, str]:
    if not space_ids:
        return {}
    query = sa.select(spaces.c.id, spaces.c.name).where(spaces.c.id.in_(sorted(space_ids)))
    return {row[0]: row[1] for row in conn.execute(query)}


def readable_ids(conn: Connection, readable: sa.Select[tuple[int]]) -> set[int]:
    """The ids a readable-spaces subquery (:func:`kith.storage.spaces.readable_space_ids`) names."""
    rows: list[Any] = list(conn.execute(readable))
    return {int(row[0]) for row in rows}
