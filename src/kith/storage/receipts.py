"""Read pointers per person and space, and the first time each person saw each post."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kith.storage.tables import post_seen, posts, read_state, space_members


def read_pointers(conn: Connection, person_id: int) -> dict[int, int]:
    """The last post read in each space, for one person."""
    query = sa.select(read_state.c.space_id, read_state.c.last_read_post_id).where(
        read_state.c.person_id == person_id
    )
    return {row[0]: row[1] for row in conn.execute(query)}


def unread_counts(conn: Connection, person_id: int) -> dict[int, int]:
    """Live posts by others after the read pointer, in each space the person belongs to."""
    pointer = sa.func.coalesce(read_state.c.last_read_post_id, 0)
    query = (
        sa.select(posts.c.space_id, sa.func.count())
        .select_from(
            posts.join(
                space_members,
                sa.and_(space_members.c.space_id == posts.c.space_id, space_members.c.person_id == person_id),
            ).outerjoin(
                read_state,
                sa.and_(read_state.c.space_id == posts.c.space_id, read_state.c.person_id == person_id),
            )
        )
        .where(posts.c.id > pointer, posts.c.author_id != person_id, posts.c.deleted_at.is_(None))
        .group_by(posts.c.space_id)
    )
    return {row[0]: row[1] for row in conn.execute(query)}


def latest_post_id(conn: Connection, space_id: int) -> int:
    query = sa.select(sa.func.coalesce(sa.func.max(posts.c.id), 0)).where(posts.c.space_id == space_id)
    return int(conn.execute(query).scalar_one())


def advance_pointer(conn: Connection, person_id: int, space_id: int, post_id: int, now: datetime) -> int:
    """Move the pointer forward to ``post_id`` (never back); returns where it now is."""
    current = read_pointers_for(conn, person_id, space_id)
    if current is None:
        conn.execute(
            sa.insert(read_state).values(
                person_id=person_id, space_id=space_id, last_read_post_id=post_id, updated_at=now
            )
        )
        return post_id
    if post_id <= current:
        return current
    conn.execute(
        sa.update(read_state)
        .where(read_state.c.person_id == person_id, read_state.c.space_id == space_id)
        .values(last_read_post_id=post_id, updated_at=now)
    )
    return post_id


def read_pointers_for(conn: Connection, person_id: int, space_id: int) -> int | None:
    query = sa.select(read_state.c.last_read_post_id).where(
        read_state.c.person_id == person_id, read_state.c.space_id == space_id
    )
    row = conn.execute(query).first()
    return int(row[0]) if row else None


def record_seen(conn: Connection, person_id: int, post_ids: Sequence[int], now: datetime) -> list[int]:
    """Store the first sighting of each post; returns the ids seen for the first time."""
    if not post_ids:
        return []
    already = {
        row[0]
        for row in conn.execute(
            sa.select(post_seen.c.post_id).where(
                post_seen.c.person_id == person_id, post_seen.c.post_id.in_(post_ids)
            )
        )
    }
    new = [pid for pid in dict.fromkeys(post_ids) if pid not in already]
    if new:
        rows = [{"post_id": pid, "person_id": person_id, "seen_at": now} for pid in new]
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(post_seen).on_conflict_do_nothing(), rows)
    return new


def seen_counts(conn: Connection, post_ids: Sequence[int]) -> dict[int, int]:
    if not post_ids:
        return {}
    query = (
        sa.select(post_seen.c.post_id, sa.func.count())
        .where(post_seen.c.post_id.in_(post_ids))
        .group_by(post_seen.c.post_id)
    )
    return {row[0]: row[1] for row in conn.execute(query)}


def seen_by_members(conn: Connection, post_id: int, space_id: int) -> list[tuple[int, datetime]]:
    """Who of the space's current members has seen the post, and when first, earliest first."""
    query = (
        sa.select(post_seen.c.person_id, post_seen.c.seen_at)
        .select_from(
            post_seen.join(
                space_members,
                sa.and_(
                    space_members.c.person_id == post_seen.c.person_id, space_members.c.space_id == space_id
                ),
            )
        )
        .where(post_seen.c.post_id == post_id)
        .order_by(post_seen.c.seen_at, post_seen.c.person_id)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]
