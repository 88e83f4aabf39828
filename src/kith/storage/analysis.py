"""Analysis runs, their communities and members, and the person-level access log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.storage.tables import analysis_access, analysis_communities, analysis_members, analysis_runs, people


def _one(conn: Connection, query: sa.Select[Any]) -> dict[str, Any] | None:
    row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def _all(conn: Connection, query: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(query).mappings()]


def create_run(
    conn: Connection,
    params: dict[str, Any],
    since: datetime | None,
    until: datetime,
    now: datetime,
    created_by: int | None,
) -> int:
    result = conn.execute(
        sa.insert(analysis_runs)
        .values(
            status="running",
            params=params,
            since=since,
            until=until,
            started_at=now,
            summary={},
            created_by=created_by,
        )
        .returning(analysis_runs.c.id)
    )
    return int(result.scalar_one())


def finish_run(
    conn: Connection, run_id: int, status: str, summary: dict[str, Any], now: datetime, error: str = ""
) -> None:
    conn.execute(
        sa.update(analysis_runs)
        .where(analysis_runs.c.id == run_id)
        .values(status=status, summary=summary, finished_at=now, error=error[:2000])
    )


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    return _one(conn, sa.select(analysis_runs).where(analysis_runs.c.id == run_id))


def list_runs(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    query = sa.select(analysis_runs).order_by(analysis_runs.c.id.desc()).limit(limit)
    return _all(conn, query)


def latest_done(conn: Connection, before: int | None = None) -> int | None:
    """The newest finished run (before run ``before``, if given)."""
    query = sa.select(sa.func.max(analysis_runs.c.id)).where(analysis_runs.c.status == "done")
    if before is not None:
        query = query.where(analysis_runs.c.id < before)
    found = conn.execute(query).scalar_one()
    return int(found) if found is not None else None


def community_members(conn: Connection, run_id: int) -> dict[int, set[int]]:
    """Each community of a run and its members' person ids."""
    query = sa.select(analysis_members.c.community_id, analysis_members.c.person_id).where(
        analysis_members.c.run_id == run_id, analysis_members.c.community_id.is_not(None)
    )
    found: dict[int, set[int]] = defaultdict(set)
    for community_id, person_id in conn.execute(query):
        found[community_id].add(person_id)
    return dict(found)


def next_community_id(conn: Connection) -> int:
    found = conn.execute(sa.select(sa.func.max(analysis_communities.c.community_id))).scalar_one()
    return int(found or 0) + 1


def save(
    conn: Connection, run_id: int, communities: Sequence[dict[str, Any]], members: Sequence[dict[str, Any]]
) -> None:
    if communities:
        conn.execute(sa.insert(analysis_communities), [{**c, "run_id": run_id} for c in communities])
    for start in range(0, len(members), 5_000):
        chunk = members[start : start + 5_000]
        conn.execute(sa.insert(analysis_members), [{**m, "run_id": run_id} for m in chunk])


def communities(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    query = (
        sa.select(analysis_communities)
        .where(analysis_communities.c.run_id == run_id)
        .order_by(analysis_communities.c.size.desc(), analysis_communities.c.community_id)
    )
    return _all(conn, query)


def community(conn: Connection, run_id: int, community_id: int) -> dict[str, Any] | None:
    query = sa.select(analysis_communities).where(
        analysis_communities.c.run_id == run_id, analysis_communities.c.community_id == community_id
    )
    return _one(conn, query)


def latest_run_with(conn: Connection, community_id: int) -> int | None:
    """The newest finished run in which the community exists."""
    query = (
        sa.select(sa.func.max(analysis_communities.c.run_id))
        .join(analysis_runs, analysis_runs.c.id == analysis_communities.c.run_id)
        .where(analysis_communities.c.community_id == community_id, analysis_runs.c.status == "done")
    )
    found = conn.execute(query).scalar_one()
    return int(found) if found is not None else None


def members(conn: Connection, run_id: int, community_id: int | None = None) -> list[dict[str, Any]]:
    """Members with their name, e-mail, department, location and time zone."""
    query = (
        sa.select(
            analysis_members,
            people.c.email,
            people.c.display_name,
            people.c.department,
            people.c.location,
            people.c.timezone,
            people.c.active,
        )
        .join(people, people.c.id == analysis_members.c.person_id)
        .where(analysis_members.c.run_id == run_id)
        .order_by(analysis_members.c.community_id, analysis_members.c.person_id)
    )
    if community_id is not None:
        query = query.where(analysis_members.c.community_id == community_id)
    return _all(conn, query)


def member(conn: Connection, run_id: int, person_id: int) -> dict[str, Any] | None:
    query = sa.select(analysis_members).where(
        analysis_members.c.run_id == run_id, analysis_members.c.person_id == person_id
    )
    return _one(conn, query)


def log_access(conn: Connection, viewer_id: int | None, run_id: int | None, what: str, now: datetime) -> None:
    conn.execute(
        sa.insert(analysis_access).values(viewer_id=viewer_id, run_id=run_id, what=what[:200], at=now)
    )


def access_log(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    query = sa.select(analysis_access).order_by(analysis_access.c.id.desc()).limit(limit)
    return _all(conn, query)


def directory(conn: Connection) -> dict[int, dict[str, Any]]:
    """Everyone's formal place: department, location, time zone (and whether active)."""
    query = sa.select(
        people.c.id,
        people.c.email,
        people.c.display_name,
        people.c.department,
        people.c.location,
        people.c.timezone,
        people.c.active,
    )
    return {row.id: dict(row._mapping) for row in conn.execute(query)}
