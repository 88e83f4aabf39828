"""Interactions and import runs: the network's raw material, metadata only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kith.domain.interactions import KINDS, ORIGINS
from kith.storage.tables import discovered_people, import_runs, interactions, people, posts
from kith.storage.types import UTCDateTime

KIND_CODES = {kind: i for i, kind in enumerate(KINDS)}
ORIGIN_CODES = {origin: i for i, origin in enumerate(ORIGINS)}


# runs


def create_run(conn: Connection, kind: str, source: str, now: datetime, created_by: int | None) -> int:
    result = conn.execute(
        sa.insert(import_runs)
        .values(
            kind=kind, source=source[:500], status="running", started_at=now, stats={}, created_by=created_by
        )
        .returning(import_runs.c.id)
    )
    return int(result.scalar_one())


def finish_run(
    conn: Connection, run_id: int, status: str, stats: dict[str, Any], now: datetime, error: str = ""
) -> None:
    conn.execute(
        sa.update(import_runs)
        .where(import_runs.c.id == run_id)
        .values(status=status, stats=stats, finished_at=now, error=error[:2000])
    )


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(import_runs).where(import_runs.c.id == run_id)).mappings().first()
    return dict(row) if row is not None else None


def list_runs(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    query = sa.select(import_runs).order_by(import_runs.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def update_running_stats(conn: Connection, run_id: int, stats: dict[str, Any]) -> bool:
    """Record the progress of a run still ``running``; False if it is running no more."""
    result = conn.execute(
        sa.update(import_runs)
        .where(import_runs.c.id == run_id, import_runs.c.status == "running")
        .values(stats=stats)
    )
    return bool(result.rowcount)


def running_runs(conn: Connection) -> list[dict[str, Any]]:
    query = sa.select(import_runs).where(import_runs.c.status == "running").order_by(import_runs.c.id)
    return [dict(row) for row in conn.execute(query).mappings()]


def stale_runs(conn: Connection) -> list[int]:
    """Runs that failed or never finished: their rows are to be removed."""
    query = sa.select(import_runs.c.id).where(import_runs.c.status.in_(("running", "failed")))
    return [row[0] for row in conn.execute(query)]


def remove_run_rows(conn: Connection, run_id: int) -> tuple[int, int]:
    """Delete a run's interactions, and the people it discovered that nothing else refers
    to any more; returns (interactions, people) removed."""
    removed = conn.execute(sa.delete(interactions).where(interactions.c.run_id == run_id)).rowcount or 0
    found = [
        row[0]
        for row in conn.execute(
            sa.select(discovered_people.c.person_id).where(discovered_people.c.run_id == run_id)
        )
    ]
    gone = 0
    for start in range(0, len(found), 500):
        chunk = found[start : start + 500]
        used = {
            row[0]
            for row in conn.execute(
                sa.select(interactions.c.source_id)
                .where(interactions.c.source_id.in_(chunk))
                .union(sa.select(interactions.c.target_id).where(interactions.c.target_id.in_(chunk)))
            )
        }
        unused = [p for p in chunk if p not in used]
        if unused:
            conn.execute(sa.delete(discovered_people).where(discovered_people.c.person_id.in_(unused)))
            gone += conn.execute(sa.delete(people).where(people.c.id.in_(unused))).rowcount or 0
    return removed, gone


def mark_discovered(conn: Connection, person_ids: Iterable[int], run_id: int) -> None:
    rows = [{"person_id": p, "run_id": run_id} for p in person_ids]
    if rows:
        conn.execute(sa.insert(discovered_people), rows)


# interactions


def insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert interactions; imported ones whose ``dedupe_key`` is already there are skipped."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(interactions).on_conflict_do_nothing(index_elements=["dedupe_key"]), list(rows)
    )


_INSERT_IMPORTED = (
    "INSERT INTO interactions (source_id, target_id, kind, at, weight, origin, context, run_id, dedupe_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
)


def insert_imported(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """The bulk path of imports: ``rows`` are tuples in the order of the columns below, ``at``
    an aware UTC datetime. One driver-level ``executemany``, with no per-row work in
    SQLAlchemy; rows whose ``dedupe_key`` is already there are skipped."""
    if not rows:
        return
    sqlite_ = conn.dialect.name == "sqlite"
    sql = _INSERT_IMPORTED if sqlite_ else _INSERT_IMPORTED.replace("?", "%s")
    if sqlite_:  # SQLite keeps naive UTC text, as UTCDateTime writes it
        rows = [(*r[:3], r[3].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), *r[4:]) for r in rows]
    conn.exec_driver_sql(sql, list(rows))


RECENT_POSTS = 50
"""How far back in a topic a new post looks for earlier participants."""

_TIES_CACHED = 16
_ties_statements: dict[tuple[int, int], sa.Insert] = {}


def _ties_statement(n_ties: int, earlier_max: int) -> sa.Insert:
    """The one statement of a post's ties, by its shape: ``n_ties`` explicit ties
    (``t<i>``, ``k<i>``, ``w<i>``) and up to ``earlier_max`` earlier participants.

    Built once per shape: building it anew cost more than running it."""
    key = (n_ties, earlier_max)
    statement = _ties_statements.get(key)
    if statement is not None:
        return statement
    parts: list[sa.Select[Any]] = [
        sa.select(
            sa.bindparam(f"t{i}", type_=sa.Integer).label("target"),
            sa.bindparam(f"k{i}", type_=sa.String).label("kind"),
            sa.bindparam(f"w{i}", type_=sa.Float).label("weight"),
        )
        for i in range(n_ties)
    ]
    if earlier_max:
        # The topic's latest posts, through the (topic_id, id) index: bounded, however long
        # the topic; then their distinct authors, the latest first, less those tied already.
        recent = (
            sa.select(posts.c.author_id, posts.c.id)
            .where(
                posts.c.topic_id == sa.bindparam("topic_id", type_=sa.Integer), posts.c.deleted_at.is_(None)
            )
            .order_by(posts.c.id.desc())
            .limit(RECENT_POSTS)
            .subquery()
        )
        excluded = [sa.bindparam("author_id", type_=sa.Integer)]
        excluded += [sa.bindparam(f"t{i}", type_=sa.Integer) for i in range(n_ties)]
        earlier = (
            sa.select(
                recent.c.author_id.label("target"),
                sa.literal("reply", sa.String).label("kind"),
                sa.bindparam("earlier_weight", type_=sa.Float).label("weight"),
            )
            .where(recent.c.author_id.not_in(excluded))
            .group_by(recent.c.author_id)
            .order_by(sa.func.max(recent.c.id).desc())
            .limit(earlier_max)
            .subquery()
        )
        parts.append(sa.select(earlier.c.target, earlier.c.kind, earlier.c.weight))
    found = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery()
    rows = sa.select(
        sa.bindparam("author_id", type_=sa.Integer),
        found.c.target,
        found.c.kind,
        sa.bindparam("at", type_=UTCDateTime()),
        found.c.weight,
        sa.literal("kith", sa.String),
        sa.bindparam("context", type_=sa.String),
    )
    columns = ["source_id", "target_id", "kind", "at", "weight", "origin", "context"]
    statement = sa.insert(interactions).from_select(columns, rows)
    if n_ties <= _TIES_CACHED:
        _ties_statements[key] = statement
    return statement


def insert_post_ties(
    conn: Connection,
    *,
    author_id: int,
    at: datetime,
    context: str,
    ties: Sequence[tuple[int, str, float]],
    earlier_in_topic: int | None,
    earlier_weight: float,
    earlier_max: int,
) -> None:
    """A post's ties in one statement: ``ties`` as ``(target, kind, weight)``, and with
    ``earlier_in_topic`` a ``reply`` tie of ``earlier_weight`` to each of the last
    ``earlier_max`` other people who posted in that topic, among its latest
    :data:`RECENT_POSTS` posts (deleted ones left out), most recent first; people already
    in ``ties`` get no second tie.

    The post's hot path: one statement however many ties, built once per shape, whose cost
    does not grow with the topic's length."""
    if earlier_in_topic is None:
        earlier_max = 0
    if not ties and not earlier_max:
        return
    params: dict[str, Any] = {"author_id": author_id, "at": at, "context": context}
    for i, (target, kind, weight) in enumerate(ties):
        params[f"t{i}"], params[f"k{i}"], params[f"w{i}"] = target, kind, weight
    if earlier_max:
        params["topic_id"], params["earlier_weight"] = earlier_in_topic, earlier_weight
    conn.execute(_ties_statement(len(ties), earlier_max), params)


def count_for_run(conn: Connection, run_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(interactions).where(interactions.c.run_id == run_id)
    return int(conn.execute(query).scalar_one())


def usable() -> sa.ColumnElement[bool]:
    """Interactions of Kith itself, or of imports that finished."""
    done = sa.select(import_runs.c.id).where(import_runs.c.status == "done")
    return sa.or_(interactions.c.run_id.is_(None), interactions.c.run_id.in_(done))


def window(conn: Connection, since: datetime | None, until: datetime | None) -> dict[str, np.ndarray]:
    """Every usable interaction in ``[since, until)``, as columns: ``source``, ``target``
    (person ids), ``at`` (unix seconds), ``weight``, ``kind`` and ``origin`` (codes).

    The analysis reads millions of rows here: the database turns the time into seconds, so
    that no row goes through a Python datetime."""
    if conn.dialect.name == "sqlite":
        seconds: sa.ColumnElement[Any] = sa.literal_column(
            "(julianday(interactions.at) - 2440587.5) * 86400.0"
        )
    else:
        seconds = sa.extract("epoch", interactions.c.at)
    query = sa.select(
        interactions.c.source_id,
        interactions.c.target_id,
        seconds,
        interactions.c.weight,
        interactions.c.kind,
        interactions.c.origin,
    ).where(usable())
    if since is not None:
        query = query.where(interactions.c.at >= since)
    if until is not None:
        query = query.where(interactions.c.at < until)
    rows = conn.execute(query).fetchall()
    if not rows:
        no_ints, no_floats, no_codes = (np.zeros(0, dtype=t) for t in (np.int64, np.float64, np.int8))
        return {
            "source": no_ints,
            "target": no_ints,
            "at": no_floats,
            "weight": no_floats,
            "kind": no_codes,
            "origin": no_codes,
        }
    source, target, at, weight, kind, origin = zip(*rows, strict=True)
    return {
        "source": np.asarray(source, dtype=np.int64),
        "target": np.asarray(target, dtype=np.int64),
        "at": np.asarray(at, dtype=np.float64),
        "weight": np.asarray(weight, dtype=np.float64),
        "kind": np.asarray([KIND_CODES.get(k, -1) for k in kind], dtype=np.int8),
        "origin": np.asarray([ORIGIN_CODES.get(o, -1) for o in origin], dtype=np.int8),
    }
