"""Posts, their versions, reactions and mentions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Mention, Post, PostVersion, Reaction
from kith.storage.tables import mentions, people, post_versions, posts, reactions, space_members


def from_row(row: RowMapping, reaction_list: tuple[Reaction, ...] = ()) -> Post:
    return Post(
        id=row["id"],
        topic_id=row["topic_id"],
        space_id=row["space_id"],
        author_id=row["author_id"],
        source=row["source"],
        html=row["html"],
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted_at=row["deleted_at"],
        version=row["version"],
        reply_to_id=row["reply_to_id"],
        urgent=bool(row["urgent"]),
        reactions=reaction_list,
        correction_of_id=row["correction_of_id"],
    )


# Hot-path statements, built once (building one costs more than running it).
_GET = sa.select(posts).where(posts.c.id == sa.bindparam("b_post_id"))
_INSERT = sa.insert(posts).returning(posts.c.id, posts.c.version)
_INSERT_MENTIONS = sa.insert(mentions)


def get(conn: Connection, post_id: int, *, with_reactions: bool = True) -> Post | None:
    row = conn.execute(_GET, {"b_post_id": post_id}).mappings().first()
    if row is None:
        return None
    found = reactions_for(conn, [post_id]) if with_reactions else {}
    return from_row(row, found.get(post_id, ()))


def insert(conn: Connection, values: dict[str, Any]) -> Post:
    """Insert a post; only what the database fills in comes back (``RETURNING id, version``)."""
    post_id, version = conn.execute(_INSERT, values).one()
    return Post(
        id=post_id,
        topic_id=values["topic_id"],
        space_id=values["space_id"],
        author_id=values["author_id"],
        source=values["source"],
        html=values["html"],
        created_at=values["created_at"].astimezone(UTC),
        edited_at=None,
        deleted_at=None,
        version=version,
        reply_to_id=values.get("reply_to_id"),
        urgent=bool(values.get("urgent", False)),
        correction_of_id=values.get("correction_of_id"),
    )


def list_in_topic(conn: Connection, topic_id: int, *, after_id: int | None, limit: int) -> list[Post]:
    """Posts of a topic, oldest first, deleted ones included (the edge blanks them)."""
    query = sa.select(posts).where(posts.c.topic_id == topic_id).order_by(posts.c.id).limit(limit)
    if after_id is not None:
        query = query.where(posts.c.id > after_id)
    rows = list(conn.execute(query).mappings())
    found = reactions_for(conn, [row["id"] for row in rows])
    return [from_row(row, found.get(row["id"], ())) for row in rows]


def save_version(conn: Connection, post: Post, *, editor_id: int) -> None:
    """Keep ``post`` as it is now in the history, before it is changed."""
    conn.execute(
        sa.insert(post_versions).values(
            post_id=post.id,
            version=post.version,
            source=post.source,
            html=post.html,
            editor_id=editor_id,
            created_at=post.edited_at or post.created_at,
        )
    )


def update(conn: Connection, post_id: int, values: dict[str, Any]) -> Post:
    query = sa.update(posts).where(posts.c.id == post_id).values(**values).returning(*posts.c)
    row = conn.execute(query).mappings().one()
    return from_row(row, reactions_for(conn, [post_id]).get(post_id, ()))


def versions(conn: Connection, post_id: int) -> list[PostVersion]:
    query = (
        sa.select(post_versions).where(post_versions.c.post_id == post_id).order_by(post_versions.c.version)
    )
    return [
        PostVersion(
            post_id=row["post_id"],
            version=row["version"],
            source=row["source"],
            html=row["html"],
            editor_id=row["editor_id"],
            created_at=row["created_at"],
        )
        for row in conn.execute(query).mappings()
    ]


def reactions_for(conn: Connection, post_ids: Sequence[int]) -> dict[int, tuple[Reaction, ...]]:
    """Reactions per post: each emoji with its count and who, in order of first use."""
    if not post_ids:
        return {}
    query = (
        sa.select(reactions.c.post_id, reactions.c.emoji, reactions.c.person_id)
        .where(reactions.c.post_id.in_(post_ids))
        .order_by(reactions.c.post_id, reactions.c.created_at, reactions.c.person_id)
    )
    grouped: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for post_id, emoji, person_id in conn.execute(query):
        grouped[post_id].setdefault(emoji, []).append(person_id)
    return {
        post_id: tuple(Reaction(e, len(who), tuple(who)) for e, who in by_emoji.items())
        for post_id, by_emoji in grouped.items()
    }


def add_reaction(conn: Connection, post_id: int, person_id: int, emoji: str, now: datetime) -> bool:
    """Add a reaction; False when the person had already reacted so."""
    exists = conn.execute(
        sa.select(reactions.c.post_id).where(
            reactions.c.post_id == post_id,
            reactions.c.person_id == person_id,
            reactions.c.emoji == emoji,
        )
    ).first()
    if exists:
        return False
    conn.execute(
        sa.insert(reactions).values(post_id=post_id, person_id=person_id, emoji=emoji, created_at=now)
    )
    return True


def remove_reaction(conn: Connection, post_id: int, person_id: int, emoji: str) -> bool:
    result = conn.execute(
        sa.delete(reactions).where(
            reactions.c.post_id == post_id,
            reactions.c.person_id == person_id,
            reactions.c.emoji == emoji,
        )
    )
    return result.rowcount > 0


def replace_mentions(conn: Connection, post_id: int, person_ids: Iterable[int], *, space: bool) -> None:
    conn.execute(sa.delete(mentions).where(mentions.c.post_id == post_id))
    add_mentions(conn, post_id, person_ids, space=space)


def mention_people(
    conn: Connection, post_id: int, *, author_id: int, handles: Collection[str], emails: Collection[str]
) -> set[int]:
    """Record that a new post mentions the people it names by handle or e-mail address
    (lower case), its author aside; the ids of the people found. One statement: the names
    are looked up and the rows written by ``INSERT ... SELECT ... RETURNING``.
    """
    if not handles and not emails:
        return set()
    params: dict[str, Any] = {"b_post_id": post_id, "b_author_id": author_id}
    if len(handles) == 1 and not emails:
        query = _MENTION_ONE_HANDLE  # the usual case, built once
        params["b_handle"] = next(iter(handles))
    else:
        named = sa.or_(
            people.c.handle.in_(sorted(handles)), sa.func.lower(people.c.email).in_(sorted(emails))
        )
        query = _mention_people(named)
    return {row[0] for row in conn.execute(query, params)}


def _mention_people(named: sa.ColumnElement[bool]) -> sa.Insert:
    found = (
        sa.select(sa.bindparam("b_post_id", type_=sa.Integer), sa.literal("person"), people.c.id)
        .where(named, people.c.id != sa.bindparam("b_author_id"))
        .order_by(people.c.id)
    )
    columns = [mentions.c.post_id, mentions.c.kind, mentions.c.person_id]
    return sa.insert(mentions).from_select(columns, found).returning(mentions.c.person_id)


_MENTION_ONE_HANDLE = _mention_people(people.c.handle == sa.bindparam("b_handle"))


def add_mentions(conn: Connection, post_id: int, person_ids: Iterable[int], *, space: bool) -> None:
    """Record a new post's mentions (it has none yet: nothing to delete first)."""
    rows: list[dict[str, Any]] = [
        {"post_id": post_id, "kind": "person", "person_id": pid} for pid in sorted(set(person_ids))
    ]
    if space:
        rows.append({"post_id": post_id, "kind": "space", "person_id": None})
    if rows:
        conn.execute(_INSERT_MENTIONS, rows)


def mentions_of(
    conn: Connection,
    person_id: int,
    readable: sa.Select[tuple[int]],
    *,
    before_post_id: int | None,
    limit: int,
) -> list[Mention]:
    """Mentions of the person in live posts of readable spaces, newest first.

    ``@space`` reaches the members of the space (not its author); a post naming the person
    and ``@space`` is listed once, as a personal mention.
    """
    member_of = sa.select(space_members.c.space_id).where(space_members.c.person_id == person_id)
    to_space = sa.and_(
        mentions.c.kind == "space", posts.c.space_id.in_(member_of), posts.c.author_id != person_id
    )
    columns = (posts.c.id, posts.c.topic_id, posts.c.space_id, posts.c.author_id, posts.c.created_at)
    query = (
        sa.select(*columns, sa.func.min(mentions.c.kind), sa.func.max(mentions.c.person_id))
        .select_from(mentions.join(posts, posts.c.id == mentions.c.post_id))
        .where(
            sa.or_(mentions.c.person_id == person_id, to_space),
            posts.c.deleted_at.is_(None),
            posts.c.space_id.in_(readable),
        )
        .group_by(*columns)
        .order_by(posts.c.id.desc())
        .limit(limit)
    )
    if before_post_id is not None:
        query = query.where(posts.c.id < before_post_id)
    return [Mention(*row) for row in conn.execute(query)]


def readable_among(
    conn: Connection, post_ids: Sequence[int], readable: sa.Select[tuple[int]]
) -> list[tuple[int, int, int]]:
    """(id, author, space) of the live posts among ``post_ids`` in readable spaces."""
    if not post_ids:
        return []
    query = sa.select(posts.c.id, posts.c.author_id, posts.c.space_id).where(
        posts.c.id.in_(post_ids), posts.c.deleted_at.is_(None), posts.c.space_id.in_(readable)
    )
    return [(row[0], row[1], row[2]) for row in conn.execute(query)]
