"""Corrections and exactly who was told about each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.storage.tables import correction_recipients, corrections, post_seen


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
