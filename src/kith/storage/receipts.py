"""Read pointers per person and space, and the first time each person saw each post.

A sighting row keeps two times: ``seen_at``, the first time the person saw the post at all
(a public space's post may be seen by a non-member), and ``member_seen_at``, the first time
they saw it as a member of its space. Seen counts count the second: people who saw the post
while members. A count never falls (leaving a space does not unsee a post), and
``member_seen_at`` with the members' ``joined_at`` gives a post's reach over time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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


def record_seen(
    conn: Connection,
    person_id: int,
    post_ids: Sequence[int],
    now: datetime,
    *,
    as_member: Collection[int] = (),
) -> tuple[list[int], list[int]]:
    """Store the sighting of posts by a person, ``as_member`` naming those of spaces the
    person belongs to now.

    Returns the ids seen for the first time at all (``seen_at``), and those seen for the
    first time as a member of their space (``member_seen_at``, set once and kept, also when
    the person leaves the space later): the second list is what changes seen counts.
    """
    if not post_ids:
        return [], []
    already = {
        row[0]: row[1]
        for row in conn.execute(
            sa.select(post_seen.c.post_id, post_seen.c.member_seen_at).where(
                post_seen.c.person_id == person_id, post_seen.c.post_id.in_(post_ids)
            )
        )
    }
    wanted = list(dict.fromkeys(post_ids))
    members = set(as_member)
    new = [pid for pid in wanted if pid not in already]
    upgraded = [pid for pid in wanted if pid in already and already[pid] is None and pid in members]
    if new:
        rows = [
            {
                "post_id": pid,
                "person_id": person_id,
                "seen_at": now,
                "member_seen_at": now if pid in members else None,
            }
            for pid in new
        ]
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(post_seen).on_conflict_do_nothing(), rows)
    if upgraded:
        conn.execute(
            sa.update(post_seen)
            .where(
                post_seen.c.person_id == person_id,
                post_seen.c.post_id.in_(upgraded),
                post_seen.c.member_seen_at.is_(None),
            )
            .values(member_seen_at=now)
        )
    return new, sorted({*upgraded, *(pid for pid in new if pid in members)})


def seen_counts(conn: Connection, post_ids: Sequence[int]) -> dict[int, int]:
    """How many people have seen each post as members of its space (as ``seen_by``)."""
    if not post_ids:
        return {}
    query = (
        sa.select(post_seen.c.post_id, sa.func.count())
        .where(post_seen.c.post_id.in_(post_ids), post_seen.c.member_seen_at.is_not(None))
        .group_by(post_seen.c.post_id)
    )
    return {row[0]: row[1] for row in conn.execute(query)}


def seen_by(conn: Connection, post_id: int) -> list[tuple[int, datetime]]:
    """Who has seen the post while a member of its space, and when first as a member,
    earliest first; those who left the space since stay counted: they saw it."""
    query = (
        sa.select(post_seen.c.person_id, post_seen.c.member_seen_at)
        .where(post_seen.c.post_id == post_id, post_seen.c.member_seen_at.is_not(None))
        .order_by(post_seen.c.member_seen_at, post_seen.c.person_id)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]
