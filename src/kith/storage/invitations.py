"""Invitations to spaces: one row per person asked, with its status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Invitation, MemberRole, Space
from kith.storage import spaces as space_store
from kith.storage.tables import space_invitations, spaces

PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"


def from_row(row: RowMapping) -> Invitation:
    return Invitation(
        space_id=row["space_id"],
        person_id=row["person_id"],
        invited_by=row["invited_by"],
        role=MemberRole(row["role"]),
        status=row["status"],
        created_at=row["created_at"],
        responded_at=row["responded_at"],
    )


def _where(space_id: int, person_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(space_invitations.c.space_id == space_id, space_invitations.c.person_id == person_id)


def get(conn: Connection, space_id: int, person_id: int) -> Invitation | None:
    row = conn.execute(sa.select(space_invitations).where(_where(space_id, person_id))).mappings().first()
    return from_row(row) if row else None


def insert_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[Invitation]:
    """New pending invitations (``space_id``, ``person_id``, ``invited_by``, ``role``,
    ``created_at``), returned in person order."""
    if not rows:
        return []
    values = [{**row, "status": PENDING} for row in rows]
    found = conn.execute(sa.insert(space_invitations).returning(*space_invitations.c), values).mappings()
    return sorted((from_row(r) for r in found), key=lambda i: i.person_id)


def set_status(conn: Connection, space_id: int, person_id: int, status: str, now: datetime) -> Invitation:
    query = (
        sa.update(space_invitations)
        .where(_where(space_id, person_id))
        .values(status=status, responded_at=now)
        .returning(*space_invitations.c)
    )
    return from_row(conn.execute(query).mappings().one())


def delete(conn: Connection, space_id: int, person_id: int) -> bool:
    return conn.execute(sa.delete(space_invitations).where(_where(space_id, person_id))).rowcount > 0


def statuses(conn: Connection, space_id: int, person_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Each invited person's status in the space (of ``person_ids``, or everyone invited)."""
    query = sa.select(space_invitations.c.person_id, space_invitations.c.status).where(
        space_invitations.c.space_id == space_id
    )
    if person_ids is not None:
        query = query.where(space_invitations.c.person_id.in_(sorted(set(person_ids))))
    return {row[0]: row[1] for row in conn.execute(query)}


# Pending first, then answered ones newest first.
_PENDING_FIRST = sa.case((space_invitations.c.status == PENDING, 0), else_=1)


def for_space(conn: Connection, space_id: int, status: str | None = None) -> list[Invitation]:
    query = sa.select(space_invitations).where(space_invitations.c.space_id == space_id)
    if status is not None:
        query = query.where(space_invitations.c.status == status)
    query = query.order_by(
        _PENDING_FIRST, space_invitations.c.created_at.desc(), space_invitations.c.person_id
    )
    return [from_row(row) for row in conn.execute(query).mappings()]


def for_person(conn: Connection, person_id: int, status: str | None = None) -> list[tuple[Invitation, Space]]:
    """The person's invitations with their spaces: pending first, then newest first."""
    query = (
        sa.select(space_invitations, *(column.label(f"sp_{column.name}") for column in spaces.c))
        .join(spaces, spaces.c.id == space_invitations.c.space_id)
        .where(space_invitations.c.person_id == person_id)
    )
    if status is not None:
        query = query.where(space_invitations.c.status == status)
    query = query.order_by(
        _PENDING_FIRST, space_invitations.c.created_at.desc(), space_invitations.c.space_id
    )
    return [
        (from_row(row), space_store.from_row(row, prefix="sp_")) for row in conn.execute(query).mappings()
    ]
