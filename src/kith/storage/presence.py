"""Presence rows: each person's published status, and the connections each process holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kith.domain.presence import PresenceState, Status
from kith.storage.tables import people, presence, presence_sessions, space_members, spaces

CHUNK = 500


def _insert(conn: Connection, table: sa.Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _chunks(ids: Collection[int]) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


# connections


def set_connections(conn: Connection, process_id: str, counts: Mapping[int, int], now: datetime) -> None:
    """Record how many connections ``process_id`` holds per person (0 removes the row)."""
    gone = [person_id for person_id, n in counts.items() if n <= 0]
    for chunk in _chunks(gone):
        conn.execute(
            sa.delete(presence_sessions).where(
                presence_sessions.c.process_id == process_id, presence_sessions.c.person_id.in_(chunk)
            )
        )
    rows = [
        {"process_id": process_id, "person_id": person_id, "connections": n, "renewed_at": now}
        for person_id, n in counts.items()
        if n > 0
    ]
    if rows:
        insert = _insert(conn, presence_sessions)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["process_id", "person_id"],
                set_={"connections": insert.excluded.connections, "renewed_at": insert.excluded.renewed_at},
            ),
            rows,
        )


def renew(conn: Connection, process_id: str, now: datetime) -> None:
    """The process is alive: its connections stay counted."""
    mine = presence_sessions.c.process_id == process_id
    conn.execute(sa.update(presence_sessions).where(mine).values(renewed_at=now))


def drop_process(conn: Connection, process_id: str) -> set[int]:
    """Forget every connection of a process (it is stopping); returns the people it had."""
    query = sa.select(presence_sessions.c.person_id).where(presence_sessions.c.process_id == process_id)
    people_ids = {row[0] for row in conn.execute(query)}
    conn.execute(sa.delete(presence_sessions).where(presence_sessions.c.process_id == process_id))
    return people_ids


def drop_stale(conn: Connection, renewed_before: datetime) -> set[int]:
    """Forget connections of processes that stopped renewing them (they crashed)."""
    stale = presence_sessions.c.renewed_at < renewed_before
    people_ids = {row[0] for row in conn.execute(sa.select(presence_sessions.c.person_id).where(stale))}
    if people_ids:
        conn.execute(sa.delete(presence_sessions).where(stale))
    return people_ids


def connected(conn: Connection, person_ids: Collection[int], renewed_since: datetime) -> set[int]:
    """Which of ``person_ids`` have a live connection on some process."""
    found: set[int] = set()
    for chunk in _chunks(person_ids):
        query = (
            sa.select(presence_sessions.c.person_id)
            .where(
                presence_sessions.c.person_id.in_(chunk),
                presence_sessions.c.renewed_at >= renewed_since,
                presence_sessions.c.connections > 0,
            )
            .distinct()
        )
        found.update(row[0] for row in conn.execute(query))
    return found


# published state


def _state(row: sa.Row[Any]) -> PresenceState:
    return PresenceState(
        person_id=row.person_id,
        status=cast(Status, row.status),
        away=bool(row.away),
        since=row.changed_at,
        last_active_at=row.last_active_at,
    )


def states(conn: Connection, person_ids: Collection[int]) -> dict[int, PresenceState]:
    """The published presence of ``person_ids`` that have any (the others are offline)."""
    found: dict[int, PresenceState] = {}
    for chunk in _chunks(person_ids):
        for row in conn.execute(sa.select(presence).where(presence.c.person_id.in_(chunk))):
            found[row.person_id] = _state(row)
    return found


def save_states(conn: Connection, changed: Collection[PresenceState]) -> None:
    """Write states (insert or replace), status, away, since and last activity."""
    if not changed:
        return
    insert = _insert(conn, presence)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=["person_id"],
            set_={
                "status": insert.excluded.status,
                "away": insert.excluded.away,
                "changed_at": insert.excluded.changed_at,
                "last_active_at": insert.excluded.last_active_at,
            },
        ),
        [
            {
                "person_id": s.person_id,
                "status": s.status,
                "away": s.away,
                "changed_at": s.since,
                "last_active_at": s.last_active_at,
            }
            for s in changed
        ],
    )


def member_spaces(conn: Connection, person_ids: Collection[int]) -> dict[int, set[int]]:
    """The live (not archived) spaces each person belongs to."""
    found: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(person_ids):
        query = (
            sa.select(space_members.c.person_id, space_members.c.space_id)
            .join(spaces, spaces.c.id == space_members.c.space_id)
            .where(space_members.c.person_id.in_(chunk), spaces.c.archived_at.is_(None))
        )
        for person_id, space_id in conn.execute(query):
            found[person_id].add(space_id)
    return found


def active_member_ids(conn: Connection, space_id: int) -> list[int]:
    """The active people who are members of a space."""
    query = (
        sa.select(space_members.c.person_id)
        .join(people, people.c.id == space_members.c.person_id)
        .where(space_members.c.space_id == space_id, people.c.active.is_(True))
        .order_by(space_members.c.person_id)
    )
    return [row[0] for row in conn.execute(query)]
