"""Corrections and exactly who was told about each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Correction
from kith.storage.tables import (
    correction_recipients,
    corrections,
    fact_seen,
    people,
    post_seen,
    space_members,
    spaces,
)


def insert(conn: Connection, values: dict[str, Any], recipients: Iterable[int]) -> int:
    """Write a correction and its recipients; returns its id."""
    people = sorted(set(recipients))
    correction_id = int(
        conn.execute(
            sa.insert(corrections).values(**values, recipients=len(people)).returning(corrections.c.id)
        ).scalar_one()
    )
    if people:
        conn.execute(
            sa.insert(correction_recipients),
            [{"correction_id": correction_id, "person_id": p} for p in people],
        )
    return correction_id


def viewers_of_post(conn: Connection, post_id: int) -> set[int]:
    """Everyone who has seen the post (a seen receipt), members or not."""
    query = sa.select(post_seen.c.person_id).where(post_seen.c.post_id == post_id)
    return set(conn.execute(query).scalars())


def recipients_of(conn: Connection, correction_id: int) -> set[int]:
    query = sa.select(correction_recipients.c.person_id).where(
        correction_recipients.c.correction_id == correction_id
    )
    return set(conn.execute(query).scalars())


def readers_among(conn: Connection, person_ids: Iterable[int], space_id: int) -> set[int]:
    """The active people among ``person_ids`` who may read the space now: everyone for a
    public space, its members for a private one."""
    ids = sorted(set(person_ids))
    if not ids:
        return set()
    member = sa.exists().where(space_members.c.space_id == space_id, space_members.c.person_id == people.c.id)
    public = sa.exists().where(spaces.c.id == space_id, spaces.c.visibility == "public")
    query = sa.select(people.c.id).where(
        people.c.id.in_(ids), people.c.active.is_(True), sa.or_(public, member)
    )
    return set(conn.execute(query).scalars())


# A recipient (of ``correction_recipients``) has seen the correction since: for a post, a
# seen receipt of the correcting post; for a fact, a sighting of its new version or later.
# Both tables of the enclosing query are correlated explicitly: nested two levels deep,
# automatic correlation would give ``corrections`` a FROM of its own.
_SEEN_SINCE = sa.or_(
    sa.exists()
    .where(
        post_seen.c.post_id == corrections.c.correction_post_id,
        post_seen.c.person_id == correction_recipients.c.person_id,
    )
    .correlate_except(post_seen),
    sa.exists()
    .where(
        fact_seen.c.fact_id == corrections.c.fact_id,
        fact_seen.c.person_id == correction_recipients.c.person_id,
        fact_seen.c.version >= corrections.c.to_version,
    )
    .correlate_except(fact_seen),
)
_SEEN_SINCE_COUNT = (
    sa.select(sa.func.count())
    .select_from(correction_recipients)
    .where(correction_recipients.c.correction_id == corrections.c.id, _SEEN_SINCE)
    .correlate(corrections)
    .scalar_subquery()
)


def from_row(row: RowMapping) -> Correction:
    return Correction(
        id=row["id"],
        space_id=row["space_id"],
        kind=row["kind"],
        fact_id=row["fact_id"],
        from_version=row["from_version"],
        to_version=row["to_version"],
        post_id=row["post_id"],
        correction_post_id=row["correction_post_id"],
        author_id=row["author_id"],
        summary=row["summary"],
        recipients=row["recipients"],
        created_at=row["created_at"],
        seen_since=int(row["seen_since"] or 0),
    )


def get(conn: Connection, correction_id: int) -> Correction | None:
    query = sa.select(corrections, _SEEN_SINCE_COUNT.label("seen_since")).where(
        corrections.c.id == correction_id
    )
    row = conn.execute(query).mappings().first()
    return from_row(row) if row else None


def list_in_space(
    conn: Connection, space_id: int, *, kind: str | None, before_id: int | None, limit: int
) -> list[Correction]:
    """The space's corrections, newest first, each with its count of recipients who have
    seen it since."""
    query = sa.select(corrections, _SEEN_SINCE_COUNT.label("seen_since")).where(
        corrections.c.space_id == space_id
    )
    if kind is not None:
        query = query.where(corrections.c.kind == kind)
    if before_id is not None:
        query = query.where(corrections.c.id < before_id)
    query = query.order_by(corrections.c.id.desc()).limit(limit)
    return [from_row(row) for row in conn.execute(query).mappings()]


def counts(
    conn: Connection, space_id: int, since: datetime | None, until: datetime | None
) -> tuple[int, int, int]:
    """Corrections made in the space in ``[since, until)`` (either end open when None):
    how many, how many recipients in all, and how many of those have seen them since."""
    where = [corrections.c.space_id == space_id]
    if since is not None:
        where.append(corrections.c.created_at >= since)
    if until is not None:
        where.append(corrections.c.created_at < until)
    made = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(corrections.c.recipients), 0)).where(
        *where
    )
    number, recipients = conn.execute(made).one()
    seen = (
        sa.select(sa.func.count())
        .select_from(
            correction_recipients.join(corrections, corrections.c.id == correction_recipients.c.correction_id)
        )
        .where(*where, _SEEN_SINCE)
    )
    return int(number), int(recipients), int(conn.execute(seen).scalar_one())
