"""The event log: every user-visible change, with a monotonic id, in the writer's transaction.

On PostgreSQL two transactions may take ids 5 and 6 and commit 6 first; a reader that saw 6
and moved its pointer past 5 would then miss 5. So appending takes a transaction-scoped
advisory lock that is held until commit: ids become visible in id order. SQLite has one
writer at a time, so the order is given.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Event
from kith.storage.tables import events

EVENT_LOG_LOCK = 0x4B495448  # "KITH"
# Built once: every write runs one of them.
_APPEND_ONE = sa.insert(events).returning(events.c.id)
_APPEND = sa.insert(events).returning(events.c.id, sort_by_parameter_order=True)


def from_row(row: RowMapping) -> Event:
    return Event(
        id=row["id"],
        type=row["type"],
        space_id=row["space_id"],
        actor_id=row["actor_id"],
        created_at=row["created_at"],
        payload=dict(row["payload"]),
        audience_id=row["audience_id"],
    )


def append_many(conn: Connection, rows: list[dict[str, Any]]) -> list[Event]:
    """Append events (``type``, ``space_id``, ``actor_id``, ``payload``, ``created_at``,
    ``audience_id``); they come back with their ids, in the order given. On PostgreSQL one
    statement writes them all; on SQLite, where RETURNING promises no order, one per event.

    :meth:`kith.storage.database.Database.transaction` calls it once, just before COMMIT,
    with every event its transaction emitted.
    """
    if conn.dialect.name == "postgresql" and not conn.info.get("event_lock"):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOG_LOCK})
        conn.info["event_lock"] = True
    if len(rows) == 1:  # a plain INSERT, cheaper than SQLAlchemy's many-rows path
        ids = [conn.execute(_APPEND_ONE, rows[0]).scalar_one()]
    else:  # one statement on PostgreSQL, one per row on SQLite; the ids in the order of rows
        ids = list(conn.execute(_APPEND, rows).scalars())
    return [
        Event(
            event_id,
            row["type"],
            row["space_id"],
            row["actor_id"],
            row["created_at"],
            row["payload"],
            row["audience_id"],
        )
        for event_id, row in zip(ids, rows, strict=True)
    ]


def since(conn: Connection, after_id: int, *, limit: int) -> list[Event]:
    """Events after ``after_id`` in id order (the caller filters by visibility)."""
    query = sa.select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
    return [from_row(row) for row in conn.execute(query).mappings()]


def last_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one())
