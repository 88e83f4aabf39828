"""Notifications: one row per person told about something (never one per space member)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Notification
from kith.storage.tables import notifications, people, space_members, spaces


def from_row(row: Mapping[Any, Any]) -> Notification:
    return Notification(
        id=row["id"],
        person_id=row["person_id"],
        kind=row["kind"],
        space_id=row["space_id"],
        topic_id=row["topic_id"],
        post_id=row["post_id"],
        fact_id=row["fact_id"],
        correction_id=row["correction_id"],
        actor_id=row["actor_id"],
        urgent=bool(row["urgent"]),
        held=bool(row["held"]),
        payload=dict(row["payload"] or {}),
        created_at=row["created_at"],
        read_at=row["read_at"],
        digested_at=row["digested_at"],
    )


# Built once: every post that mentions or answers someone runs them (building and
# caching a statement anew on each post was a third of a post's CPU). The expanding
# ``IN`` is filled in at execution from the compiled, cached statement.
_IDS: sa.BindParameter[list[int]] = sa.bindparam("b_ids", expanding=True)
_SPACE = sa.bindparam("b_space_id", type_=sa.Integer)
_RECIPIENTS = sa.select(people, sa.null().label("level"), sa.null().label("private")).where(
    people.c.id.in_(_IDS), people.c.active.is_(True)
)
_RECIPIENTS_IN_SPACE = (
    sa.select(
        people,
        space_members.c.notification_level.label("level"),
        sa.select(spaces.c.visibility == "private")
        .where(spaces.c.id == _SPACE)
        .scalar_subquery()
        .label("private"),
    )
    .select_from(
        people.outerjoin(
            space_members,
            sa.and_(space_members.c.person_id == people.c.id, space_members.c.space_id == _SPACE),
        )
    )
    .where(people.c.id.in_(_IDS), people.c.active.is_(True))
)
_INSERT = sa.insert(notifications).returning(notifications.c.id, sort_by_parameter_order=True)
_INSERT_ONE = sa.insert(notifications).returning(notifications.c.id)


def recipients(conn: Connection, person_ids: Iterable[int], space_id: int | None) -> list[RowMapping]:
    """Active people among ``person_ids`` with their hours, zone and level in ``space_id``.

    ``level`` is None for a person who is not a member of the space (or with no space);
    ``private`` says whether the space is private (one statement for both).
    """
    ids = sorted(set(person_ids))
    if not ids:
        return []
    if space_id is None:
        return list(conn.execute(_RECIPIENTS, {"b_ids": ids}).mappings())
    return list(conn.execute(_RECIPIENTS_IN_SPACE, {"b_ids": ids, "b_space_id": space_id}).mappings())


def insert_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[Notification]:
    """Write the notifications (every column but ``id``, ``read_at`` and ``digested_at``);
    only their ids come back, in the order of ``rows``."""
    if not rows:
        return []
    if len(rows) == 1:  # the usual case: a plain INSERT, not SQLAlchemy's many-rows path
        ids = [conn.execute(_INSERT_ONE, rows[0]).scalar_one()]
    else:
        ids = list(conn.execute(_INSERT, list(rows)).scalars())
    return [
        from_row(
            {
                **row,
                "id": new_id,
                "created_at": row["created_at"].astimezone(UTC),
                "read_at": None,
                "digested_at": None,
            }
        )
        for new_id, row in zip(ids, rows, strict=True)
    ]


def list_for(
    conn: Connection,
    person_id: int,
    *,
    before_id: int | None,
    limit: int,
    unread_only: bool = False,
    readable: sa.Select[tuple[int]] | None = None,
) -> list[Notification]:
    query = sa.select(notifications).where(notifications.c.person_id == person_id)
    if before_id is not None:
        query = query.where(notifications.c.id < before_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    if readable is not None:
        query = query.where(
            sa.or_(notifications.c.space_id.is_(None), notifications.c.space_id.in_(readable))
        )
    query = query.order_by(notifications.c.id.desc()).limit(limit)
    return [from_row(r) for r in conn.execute(query).mappings()]


def mark_read(conn: Connection, person_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark the person's notifications read (``ids``, or all when None); returns how many changed."""
    query = (
        sa.update(notifications)
        .where(notifications.c.person_id == person_id, notifications.c.read_at.is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        query = query.where(notifications.c.id.in_(list(ids)))
    return conn.execute(query).rowcount or 0


def unread_count(conn: Connection, person_id: int, readable: sa.Select[tuple[int]] | None = None) -> int:
    query = sa.select(sa.func.count()).where(
        notifications.c.person_id == person_id, notifications.c.read_at.is_(None)
    )
    if readable is not None:
        query = query.where(
            sa.or_(notifications.c.space_id.is_(None), notifications.c.space_id.in_(readable))
        )
    return int(conn.execute(query).scalar_one())


def undigested(conn: Connection, person_id: int, *, until: datetime) -> list[Notification]:
    """Notifications not yet folded into a digest nor read, created before ``until``, oldest first."""
    query = (
        sa.select(notifications)
        .where(
            notifications.c.person_id == person_id,
            notifications.c.digested_at.is_(None),
            notifications.c.read_at.is_(None),
            notifications.c.created_at < until,
        )
        .order_by(notifications.c.id)
    )
    return [from_row(r) for r in conn.execute(query).mappings()]


def mark_digested(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(
            sa.update(notifications).where(notifications.c.id.in_(list(ids))).values(digested_at=now)
        )


def already_told(conn: Connection, kind: str, topic_id: int) -> set[int]:
    """People already sent a notification of ``kind`` about ``topic_id``."""
    query = sa.select(notifications.c.person_id).where(
        notifications.c.kind == kind, notifications.c.topic_id == topic_id
    )
    return set(conn.execute(query).scalars())
