"""Per-person preferences and state (``person_prefs``): one row per person, made on first use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import PersonPrefs
from kith.storage.tables import person_prefs


def from_row(row: RowMapping) -> PersonPrefs:
    return PersonPrefs(
        person_id=row["person_id"],
        caught_up_at=row["caught_up_at"],
        feed_token_hash=row["feed_token_hash"],
        digest_email=bool(row["digest_email"]),
    )


def get(conn: Connection, person_id: int) -> PersonPrefs:
    """The person's preferences; the defaults when they never set any."""
    row = (
        conn.execute(sa.select(person_prefs).where(person_prefs.c.person_id == person_id)).mappings().first()
    )
    return from_row(row) if row else PersonPrefs(person_id)


def _save(conn: Connection, person_id: int, values: dict[str, Any]) -> None:
    # Writers run one at a time (see storage/database.py), so update-then-insert cannot race.
    changed = conn.execute(
        sa.update(person_prefs).where(person_prefs.c.person_id == person_id).values(**values)
    ).rowcount
    if not changed:
        conn.execute(sa.insert(person_prefs).values(person_id=person_id, **values))


def set_caught_up(conn: Connection, person_id: int, at: datetime) -> None:
    _save(conn, person_id, {"caught_up_at": at})


def set_feed_token_hash(conn: Connection, person_id: int, token_hash: str) -> None:
    _save(conn, person_id, {"feed_token_hash": token_hash})


def set_digest_email(conn: Connection, person_id: int, wanted: bool) -> None:
    _save(conn, person_id, {"digest_email": wanted})


def by_feed_token_hash(conn: Connection, token_hash: str) -> PersonPrefs | None:
    query = sa.select(person_prefs).where(person_prefs.c.feed_token_hash == token_hash)
    row = conn.execute(query).mappings().first()
    return from_row(row) if row else None
