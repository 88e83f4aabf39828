"""Spaces made from detected communities: which space a community became, who was in the
community over time, and what its members talk about in public spaces."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.domain.models import Space
from kith.storage import spaces as space_store
from kith.storage.tables import analysis_members, analysis_runs, spaces, topics


def spaces_of(conn: Connection, community_ids: Iterable[int]) -> dict[int, Space]:
    """The space made from each of ``community_ids`` that has one (the first, if ever two)."""
    ids = sorted(set(community_ids))
    if not ids:
        return {}
    query = sa.select(spaces).where(spaces.c.community_id.in_(ids)).order_by(spaces.c.id.desc())
    return {row["community_id"]: space_store.from_row(row) for row in conn.execute(query).mappings()}


def run_of(conn: Connection, space_id: int) -> int | None:
    """The analysis run the space's community was taken from."""
    found = conn.execute(sa.select(spaces.c.community_run_id).where(spaces.c.id == space_id)).scalar()
    return int(found) if found is not None else None


def members_since(conn: Connection, community_id: int, run_id: int) -> set[int]:
    """Everyone who was in the community in a finished run from ``run_id`` on."""
    query = (
        sa.select(analysis_members.c.person_id)
        .join(analysis_runs, analysis_runs.c.id == analysis_members.c.run_id)
        .where(
            analysis_members.c.community_id == community_id,
            analysis_members.c.run_id >= run_id,
            analysis_runs.c.status == "done",
        )
        .distinct()
    )
    return {row[0] for row in conn.execute(query)}


def public_topic_titles(conn: Connection, author_ids: Iterable[int]) -> list[tuple[int, str]]:
    """(author, title) of the topics ``author_ids`` started in public spaces."""
    ids = sorted(set(author_ids))
    if not ids:
        return []
    query = (
        sa.select(topics.c.author_id, topics.c.title)
        .join(spaces, spaces.c.id == topics.c.space_id)
        .where(topics.c.author_id.in_(ids), spaces.c.visibility == "public")
        .order_by(topics.c.id)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]


def slugs_like(conn: Connection, base: str) -> set[str]:
    """The taken slugs that are ``base`` or start with ``base-``."""
    pattern = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "-%"
    query = sa.select(spaces.c.slug).where(
        sa.or_(spaces.c.slug == base, spaces.c.slug.like(pattern, escape="\\"))
    )
    return {row[0] for row in conn.execute(query)}
