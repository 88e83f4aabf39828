"""Spaces and their members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import (
    MemberRole,
    Membership,
    NotificationLevel,
    Space,
    SpaceKind,
    Visibility,
)
from kith.storage.tables import events, space_members, spaces


def from_row(row: RowMapping, prefix: str = "") -> Space:
    return Space(
        id=row[prefix + "id"],
        slug=row[prefix + "slug"],
        name=row[prefix + "name"],
        description=row[prefix + "description"],
        kind=SpaceKind(row[prefix + "kind"]),
        visibility=Visibility(row[prefix + "visibility"]),
        created_by=row[prefix + "created_by"],
        created_at=row[prefix + "created_at"],
        archived_at=row[prefix + "archived_at"],
        seen_by_visible=bool(row[prefix + "seen_by_visible"]),
        community_id=row[prefix + "community_id"],
    )


def membership_from_row(row: RowMapping) -> Membership:
    return Membership(
        space_id=row["space_id"],
        person_id=row["person_id"],
        role=MemberRole(row["role"]),
        notification_level=NotificationLevel(row["notification_level"]),
        joined_at=row["joined_at"],
    )


def get(conn: Connection, space_id: int) -> Space | None:
    row = conn.execute(sa.select(spaces).where(spaces.c.id == space_id)).mappings().first()
    return from_row(row) if row else None


def get_by_slug(conn: Connection, slug: str) -> Space | None:
    row = conn.execute(sa.select(spaces).where(spaces.c.slug == slug)).mappings().first()
    return from_row(row) if row else None


# Hot-path statements are built once with bound parameters: building a statement and its
# cache key anew costs more than running it.

# The join condition of a space with the membership of the person ``b_person_id``.
MEMBERSHIP_OF_PERSON = sa.and_(
    space_members.c.space_id == spaces.c.id, space_members.c.person_id == sa.bindparam("b_person_id")
)
# A space's columns prefixed ``sp_`` and the membership's ``m_``, to select beside another table's.
WITH_MEMBERSHIP_COLUMNS = (
    *(column.label(f"sp_{column.name}") for column in spaces.c),
    space_members.c.role.label("m_role"),
    space_members.c.notification_level.label("m_level"),
    space_members.c.joined_at.label("m_joined_at"),
)
_GET_WITH_MEMBERSHIP = (
    sa.select(*WITH_MEMBERSHIP_COLUMNS)
    .select_from(spaces.outerjoin(space_members, MEMBERSHIP_OF_PERSON))
    .where(spaces.c.id == sa.bindparam("b_space_id"))
)


def get_with_membership(
    conn: Connection, space_id: int, person_id: int
) -> tuple[Space, Membership | None] | None:
    """The space and the person's membership of it, in one query."""
    params = {"b_space_id": space_id, "b_person_id": person_id}
    row = conn.execute(_GET_WITH_MEMBERSHIP, params).mappings().first()
    return None if row is None else with_membership_from_row(row, person_id)


def with_membership_from_row(row: RowMapping, person_id: int) -> tuple[Space, Membership | None]:
    """The space and membership of a row selected with :data:`WITH_MEMBERSHIP_COLUMNS`."""
    space = from_row(row, prefix="sp_")
    if row["m_role"] is None:
        return space, None
    membership = Membership(
        space_id=space.id,
        person_id=person_id,
        role=MemberRole(row["m_role"]),
        notification_level=NotificationLevel(row["m_level"]),
        joined_at=row["m_joined_at"],
    )
    return space, membership


def slug_exists(conn: Connection, slug: str) -> bool:
    return conn.execute(sa.select(spaces.c.id).where(spaces.c.slug == slug)).first() is not None


def insert(conn: Connection, values: dict[str, Any]) -> Space:
    row = conn.execute(sa.insert(spaces).values(**values).returning(*spaces.c)).mappings().one()
    return from_row(row)


def update(conn: Connection, space_id: int, values: dict[str, Any]) -> Space:
    query = sa.update(spaces).where(spaces.c.id == space_id).values(**values).returning(*spaces.c)
    return from_row(conn.execute(query).mappings().one())


def list_visible(
    conn: Connection, person_id: int, *, see_private: bool, include_archived: bool
) -> list[tuple[Space, Membership | None]]:
    """Spaces the person may see: public ones, their own, and every one for ``see_private``."""
    m = space_members
    query = (
        sa.select(spaces, m.c.person_id, m.c.role.label("m_role"), m.c.notification_level, m.c.joined_at)
        .select_from(spaces.outerjoin(m, sa.and_(m.c.space_id == spaces.c.id, m.c.person_id == person_id)))
        .order_by(spaces.c.name, spaces.c.id)
    )
    if not see_private:
        query = query.where(sa.or_(spaces.c.visibility == "public", m.c.person_id.is_not(None)))
    if not include_archived:
        query = query.where(spaces.c.archived_at.is_(None))
    result = []
    for row in conn.execute(query).mappings():
        membership = None
        if row["person_id"] is not None:
            membership = Membership(
                row["id"],
                person_id,
                MemberRole(row["m_role"]),
                NotificationLevel(row["notification_level"]),
                row["joined_at"],
            )
        result.append((from_row(row), membership))
    return result


def member_counts(conn: Connection, space_ids: Sequence[int]) -> dict[int, int]:
    if not space_ids:
        return {}
    query = (
        sa.select(space_members.c.space_id, sa.func.count())
        .where(space_members.c.space_id.in_(space_ids))
        .group_by(space_members.c.space_id)
    )
    return {row[0]: row[1] for row in conn.execute(query)}


def get_membership(conn: Connection, space_id: int, person_id: int) -> Membership | None:
    query = sa.select(space_members).where(
        space_members.c.space_id == space_id, space_members.c.person_id == person_id
    )
    row = conn.execute(query).mappings().first()
    return membership_from_row(row) if row else None


def list_members(conn: Connection, space_id: int) -> list[Membership]:
    query = (
        sa.select(space_members)
        .where(space_members.c.space_id == space_id)
        .order_by(space_members.c.joined_at, space_members.c.person_id)
    )
    return [membership_from_row(row) for row in conn.execute(query).mappings()]


def member_ids(conn: Connection, space_id: int) -> set[int]:
    query = sa.select(space_members.c.person_id).where(space_members.c.space_id == space_id)
    return {row[0] for row in conn.execute(query)}


def count_owners(conn: Connection, space_id: int) -> int:
    query = sa.select(sa.func.count()).where(
        space_members.c.space_id == space_id, space_members.c.role == MemberRole.OWNER.value
    )
    return int(conn.execute(query).scalar_one())


def upsert_member(
    conn: Connection,
    space_id: int,
    person_id: int,
    *,
    role: MemberRole,
    level: NotificationLevel | None,
    now: datetime,
) -> Membership:
    existing = get_membership(conn, space_id, person_id)
    where = sa.and_(space_members.c.space_id == space_id, space_members.c.person_id == person_id)
    if existing:
        values: dict[str, Any] = {"role": role.value}
        if level is not None:
            values["notification_level"] = level.value
        conn.execute(sa.update(space_members).where(where).values(**values))
    else:
        conn.execute(
            sa.insert(space_members).values(
                space_id=space_id,
                person_id=person_id,
                role=role.value,
                notification_level=(level or NotificationLevel.ALL).value,
                joined_at=now,
            )
        )
    membership = get_membership(conn, space_id, person_id)
    assert membership is not None
    return membership


def delete_member(conn: Connection, space_id: int, person_id: int) -> bool:
    result = conn.execute(
        sa.delete(space_members).where(
            space_members.c.space_id == space_id, space_members.c.person_id == person_id
        )
    )
    return result.rowcount > 0


def readable_space_ids(person_id: int) -> sa.Select[tuple[int]]:
    """A subquery of the ids of spaces whose content the person may read."""
    member_of = sa.select(space_members.c.space_id).where(space_members.c.person_id == person_id)
    return sa.select(spaces.c.id).where(sa.or_(spaces.c.visibility == "public", spaces.c.id.in_(member_of)))


def member_space_ids(conn: Connection, person_id: int) -> set[int]:
    """Ids of the spaces the person is a member of."""
    query = sa.select(space_members.c.space_id).where(space_members.c.person_id == person_id)
    return {row[0] for row in conn.execute(query)}


def member_space_ids_at(conn: Connection, person_id: int, event_id: int) -> set[int]:
    """Ids of the spaces the person was a member of just after the event ``event_id``.

    One statement (so one snapshot, on SQLite as on PostgreSQL): the person's memberships
    now, and their own ``member.added`` and ``member.removed`` events after ``event_id``,
    which are then undone newest first. Every change of membership has its event, written
    in the same transaction, so the two agree. The events are read by an id range scan of
    the log after ``event_id``, the same range a replay from there reads anyway.
    """
    now = sa.select(
        space_members.c.space_id,
        sa.literal(0).label("event_id"),
        sa.literal("").label("type"),
    ).where(space_members.c.person_id == person_id)
    changes = sa.select(events.c.space_id, events.c.id, events.c.type).where(
        events.c.id > event_id,
        events.c.type.in_(("member.added", "member.removed")),
        events.c.payload["person_id"].as_integer() == person_id,
    )
    rows = conn.execute(sa.union_all(now, changes)).all()
    member_of = {row[0] for row in rows if row[1] == 0}
    for space_id, _id, kind in sorted((row for row in rows if row[1] != 0), key=lambda r: -r[1]):
        if kind == "member.added":
            member_of.discard(space_id)
        else:
            member_of.add(space_id)
    return member_of
