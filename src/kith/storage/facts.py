"""Facts, their versions, and who has seen which version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Fact, FactVersion
from kith.storage.tables import fact_seen, fact_versions, facts, spaces

# The columns a version copies from the fact it records.
VERSIONED = ("title", "source", "html", "owner_id", "source_url", "review_by")


def from_row(row: RowMapping) -> Fact:
    return Fact(
        id=row["id"],
        space_id=row["space_id"],
        title=row["title"],
        source=row["source"],
        html=row["html"],
        owner_id=row["owner_id"],
        source_url=row["source_url"],
        review_by=row["review_by"],
        version=row["version"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        archived_at=row["archived_at"],
        overdue_notified_for=row["overdue_notified_for"],
    )


def version_from_row(row: RowMapping) -> FactVersion:
    return FactVersion(
        fact_id=row["fact_id"],
        version=row["version"],
        title=row["title"],
        source=row["source"],
        html=row["html"],
        owner_id=row["owner_id"],
        source_url=row["source_url"],
        review_by=row["review_by"],
        editor_id=row["editor_id"],
        note=row["note"],
        created_at=row["created_at"],
    )


def get(conn: Connection, fact_id: int) -> Fact | None:
    row = conn.execute(sa.select(facts).where(facts.c.id == fact_id)).mappings().first()
    return from_row(row) if row else None


def get_many(conn: Connection, fact_ids: Sequence[int]) -> list[Fact]:
    if not fact_ids:
        return []
    query = sa.select(facts).where(facts.c.id.in_(list(fact_ids))).order_by(facts.c.id)
    return [from_row(row) for row in conn.execute(query).mappings()]


def insert(conn: Connection, values: dict[str, Any]) -> Fact:
    row = conn.execute(sa.insert(facts).values(**values).returning(*facts.c)).mappings().one()
    return from_row(row)


def update(conn: Connection, fact_id: int, values: dict[str, Any]) -> Fact:
    query = sa.update(facts).where(facts.c.id == fact_id).values(**values).returning(*facts.c)
    return from_row(conn.execute(query).mappings().one())


def add_version(conn: Connection, fact: Fact, *, editor_id: int, note: str, at: datetime) -> None:
    """Record ``fact`` as it is now as its version ``fact.version``, written by ``editor_id``."""
    values = {name: getattr(fact, name) for name in VERSIONED}
    conn.execute(
        sa.insert(fact_versions).values(
            fact_id=fact.id, version=fact.version, editor_id=editor_id, note=note, created_at=at, **values
        )
    )


def versions(conn: Connection, fact_id: int) -> list[FactVersion]:
    query = (
        sa.select(fact_versions).where(fact_versions.c.fact_id == fact_id).order_by(fact_versions.c.version)
    )
    return [version_from_row(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True, slots=True)
class FactFilter:
    """Which facts a list shows. ``readable`` limits them to the spaces a person may read."""

    space_id: int | None = None
    owner_id: int | None = None
    overdue: bool | None = None
    due_by: date | None = None
    title_contains: str | None = None
    include_archived: bool = False


def list_facts(
    conn: Connection,
    where: FactFilter,
    *,
    today: date,
    readable: sa.Select[tuple[int]],
    sort: str,
    after: tuple[Any, int] | None,
    limit: int,
) -> list[Fact]:
    """Facts matching ``where`` in order ``sort``: ``review_by`` (soonest first) or
    ``updated`` (most recently changed first), both broken by id; ``after`` is the sort
    key of the last fact of the page before."""
    query = sa.select(facts).where(facts.c.space_id.in_(readable))
    if where.space_id is not None:
        query = query.where(facts.c.space_id == where.space_id)
    if where.owner_id is not None:
        query = query.where(facts.c.owner_id == where.owner_id)
    if where.overdue is True:
        query = query.where(facts.c.review_by < today)
    elif where.overdue is False:
        query = query.where(facts.c.review_by >= today)
    if where.due_by is not None:
        query = query.where(facts.c.review_by <= where.due_by)
    if where.title_contains:
        needle = where.title_contains.lower()
        query = query.where(sa.func.lower(facts.c.title).contains(needle, autoescape=True))
    if not where.include_archived:
        query = query.where(facts.c.archived_at.is_(None))
    # Keyset conditions are spelt out (not row values) so that each value is bound with
    # its column's type: UTCDateTime stores naive UTC text on SQLite.
    if sort == "updated":
        if after is not None:
            at, last_id = after
            query = query.where(
                sa.or_(facts.c.updated_at < at, sa.and_(facts.c.updated_at == at, facts.c.id < last_id))
            )
        query = query.order_by(facts.c.updated_at.desc(), facts.c.id.desc())
    else:
        if after is not None:
            day, last_id = after
            query = query.where(
                sa.or_(facts.c.review_by > day, sa.and_(facts.c.review_by == day, facts.c.id > last_id))
            )
        query = query.order_by(facts.c.review_by, facts.c.id)
    return [from_row(row) for row in conn.execute(query.limit(limit)).mappings()]


def overdue_unflagged(conn: Connection, today: date, *, limit: int) -> list[Fact]:
    """Live facts of live spaces past their review-by date whose owner has not been told
    about that date yet."""
    query = (
        sa.select(facts)
        .join(spaces, spaces.c.id == facts.c.space_id)
        .where(
            facts.c.archived_at.is_(None),
            spaces.c.archived_at.is_(None),
            facts.c.review_by < today,
            sa.or_(
                facts.c.overdue_notified_for.is_(None),
                facts.c.overdue_notified_for != facts.c.review_by,
            ),
        )
        .order_by(facts.c.review_by, facts.c.id)
        .limit(limit)
    )
    return [from_row(row) for row in conn.execute(query).mappings()]


def mark_flagged(conn: Connection, fact_id: int, review_by: date) -> None:
    conn.execute(sa.update(facts).where(facts.c.id == fact_id).values(overdue_notified_for=review_by))


def count_overdue(conn: Connection, space_id: int, today: date) -> int:
    """Live facts of the space past their review-by date (for the space's metrics)."""
    query = sa.select(sa.func.count()).where(
        facts.c.space_id == space_id, facts.c.archived_at.is_(None), facts.c.review_by < today
    )
    return int(conn.execute(query).scalar_one())


def record_seen(
    conn: Connection, person_id: int, seen: Sequence[tuple[int, int]], now: datetime
) -> list[int]:
    """Store that the person saw these ``(fact_id, version)`` now: the highest version seen
    is kept, the first time stays, the last time moves. Returns the ids of the facts whose
    highest version seen rose (first sightings included)."""
    if not seen:
        return []
    wanted = dict(seen)
    before = dict(
        conn.execute(
            sa.select(fact_seen.c.fact_id, fact_seen.c.version).where(
                fact_seen.c.person_id == person_id, fact_seen.c.fact_id.in_(list(wanted))
            )
        ).all()
    )
    rows = [
        {"fact_id": fid, "person_id": person_id, "version": version, "first_seen_at": now, "seen_at": now}
        for fid, version in sorted(wanted.items())
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(fact_seen)
    statement = statement.on_conflict_do_update(
        index_elements=[fact_seen.c.fact_id, fact_seen.c.person_id],
        set_={
            "version": sa.case(
                (statement.excluded.version > fact_seen.c.version, statement.excluded.version),
                else_=fact_seen.c.version,
            ),
            "seen_at": statement.excluded.seen_at,
        },
    )
    conn.execute(statement, rows)
    return sorted(fid for fid, version in wanted.items() if before.get(fid, 0) < version)


def seen_versions(conn: Connection, fact_id: int) -> dict[int, int]:
    """The highest version each person has seen of the fact."""
    query = sa.select(fact_seen.c.person_id, fact_seen.c.version).where(fact_seen.c.fact_id == fact_id)
    return {row[0]: row[1] for row in conn.execute(query)}


def viewers_before(conn: Connection, fact_id: int, version: int) -> set[int]:
    """Everyone whose highest version seen of the fact is older than ``version``."""
    query = sa.select(fact_seen.c.person_id).where(
        fact_seen.c.fact_id == fact_id, fact_seen.c.version < version
    )
    return set(conn.execute(query).scalars())


def readable_among(
    conn: Connection, fact_ids: Sequence[int], readable: sa.Select[tuple[int]]
) -> list[tuple[int, int]]:
    """``(id, version)`` of those of ``fact_ids`` that are in the ``readable`` spaces."""
    if not fact_ids:
        return []
    query = (
        sa.select(facts.c.id, facts.c.version)
        .where(facts.c.id.in_(list(fact_ids)), facts.c.space_id.in_(readable))
        .order_by(facts.c.id)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]
