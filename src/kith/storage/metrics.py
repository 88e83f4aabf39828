"""What the information-velocity metrics read, in bulk, and their stored daily series.

The heavy read is :func:`post_sightings`: every member sighting of every post of a space in
a time range, one row per post, the sightings packed into two comma-separated strings
(``group_concat`` / ``string_agg``) that numpy parses in one call. Returning a row per
sighting instead would cost a Python tuple per sighting, several times the whole query
(see ``docs/performance.md``, "Metrics"). Times come back as whole epoch seconds, computed by
the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from kith.domain.hours import mask_to_days
from kith.domain.models import WorkingHours
from kith.storage.tables import (
    correction_recipients,
    corrections,
    fact_seen,
    facts,
    people,
    post_seen,
    posts,
    space_members,
    space_metrics_daily,
    spaces,
    topics,
)


class PostSightings(NamedTuple):
    """The posts of a range, and their member sightings: for each sighting the index of its
    post in the posts' arrays, who, and how many seconds after the post."""

    post_created: NDArray[np.int64]
    post_author: NDArray[np.int64]
    seen_post: NDArray[np.int64]
    seen_person: NDArray[np.int64]
    seen_delay: NDArray[np.int64]


class MemberRow(NamedTuple):
    person_id: int
    timezone: str
    hours: WorkingHours
    joined_at: datetime


class QuestionRow(NamedTuple):
    topic_id: int
    author_id: int
    created_at: datetime
    first_reply_at: datetime | None
    accepted_at: datetime | None


class CorrectionRow(NamedTuple):
    created_at: datetime
    recipients: int
    seen: int


class FactRow(NamedTuple):
    created_at: datetime
    archived_at: datetime | None
    review_by: date


def _epoch(conn: Connection, column: Any) -> ColumnElement[int]:
    """Whole seconds since 1970 of a timestamp column, computed by the database."""
    if conn.dialect.name != "sqlite":
        return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    if sqlite3.sqlite_version_info >= (3, 38):
        return sa.func.unixepoch(column)  # twice as fast as strftime('%s')
    return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)


def _joined(conn: Connection, value: ColumnElement[Any], order: Any) -> ColumnElement[str]:
    """The values of a group, comma-separated. Two of these over the same group list their
    rows in the same order: SQLite's aggregates see the rows in one pass, and PostgreSQL's
    are told the order."""
    text = sa.cast(value, sa.Text)
    if conn.dialect.name == "sqlite":
        return sa.func.group_concat(text, ",")
    # string_agg(value, ',' ORDER BY order): the ORDER BY follows the separator.
    return sa.func.string_agg(text, aggregate_order_by(sa.literal_column("','"), order))


def _ints(texts: Iterable[str | None]) -> NDArray[np.int64]:
    joined = ",".join(t for t in texts if t)
    if not joined:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


# Beyond this many days a range reads most of a space's posts anyway, and reading them in
# id order (the order they are stored in, with their sightings) beats topic after topic.
LONG_RANGE = timedelta(days=14)


def post_sightings(conn: Connection, space_id: int, start: datetime, end: datetime) -> PostSightings:
    """The live posts of a space created in [``start``, ``end``) and, for each, who saw it as
    a member and how long after it was posted (``member_seen_at - created_at``).

    A short range reaches its posts through their topics (``ix_topics_space_activity``): a
    post made since ``start`` is in a topic active since then (each new post moves its
    topic's ``last_activity_at`` to its own time, and time moves forward), so only the recent
    topics are read. A long one walks the space's posts in id order (``ix_posts_space_id``).
    Either way the rows come grouped, with no sort. On SQLite, a long range holding a good
    share of all posts is read by :func:`_scanned` instead.
    """
    if end - start > LONG_RANGE and conn.dialect.name == "sqlite":
        scanned = _scanned(conn, space_id, start, end)
        if scanned is not None:
            return scanned
    seen_epoch = _epoch(conn, post_seen.c.member_seen_at)
    query = sa.select(
        _epoch(conn, posts.c.created_at),
        posts.c.author_id,
        sa.func.count(post_seen.c.person_id),
        _joined(conn, post_seen.c.person_id, post_seen.c.person_id),
        _joined(conn, seen_epoch, post_seen.c.person_id),
    ).where(
        posts.c.space_id == space_id,
        posts.c.created_at >= start,
        posts.c.created_at < end,
        posts.c.deleted_at.is_(None),
    )
    sighted = sa.and_(post_seen.c.post_id == posts.c.id, post_seen.c.member_seen_at.is_not(None))
    if end - start > LONG_RANGE:
        query = (
            query.select_from(posts.outerjoin(post_seen, sighted)).group_by(posts.c.id).order_by(posts.c.id)
        )
    else:
        query = (
            query.select_from(
                topics.join(posts, posts.c.topic_id == topics.c.id).outerjoin(post_seen, sighted)
            )
            .where(topics.c.space_id == space_id, topics.c.last_activity_at >= start)
            .group_by(topics.c.last_activity_at, topics.c.id, posts.c.id)
        )
    rows = conn.execute(query).all()
    created = np.array([r[0] for r in rows], dtype=np.int64)
    counts = np.array([r[2] for r in rows], dtype=np.int64)
    seen_post = np.repeat(np.arange(created.size, dtype=np.int64), counts)
    return PostSightings(
        post_created=created,
        post_author=np.array([r[1] for r in rows], dtype=np.int64),
        seen_post=seen_post,
        seen_person=_ints(r[3] for r in rows),
        seen_delay=_ints(r[4] for r in rows) - created[seen_post],
    )


# Read every sighting in storage order when the range's posts are at least this share of
# all posts: sightings are stored as they happen, so one post's lie far apart, and fetching
# them post by post costs a random read each, twice the CPU of one pass over the table.
SCAN_SHARE = 1 / 3


def _scanned(conn: Connection, space_id: int, start: datetime, end: datetime) -> PostSightings | None:
    """The same as :func:`post_sightings` in one pass over ``post_seen`` (SQLite), grouped
    by post in numpy; None when the range holds too small a share of all posts to pay."""
    # Three comma lists in one row, not 100,000 rows: building result rows costs more than
    # the query. The lists come in one order; sorted by id here whatever it is.
    own = (
        sa.select(
            posts.c.id.label("i"), _epoch(conn, posts.c.created_at).label("c"), posts.c.author_id.label("a")
        )
        .where(
            posts.c.space_id == space_id,
            posts.c.created_at >= start,
            posts.c.created_at < end,
            posts.c.deleted_at.is_(None),
        )
        .subquery()
    )
    listed = conn.execute(
        sa.select(
            sa.func.group_concat(own.c.i, ","),
            sa.func.group_concat(own.c.c, ","),
            sa.func.group_concat(own.c.a, ","),
        )
    ).one()
    ids, created, author = _ints([listed[0]]), _ints([listed[1]]), _ints([listed[2]])
    every = conn.execute(sa.select(sa.func.max(posts.c.id))).scalar() or 0
    if ids.size < SCAN_SHARE * every:
        return None
    order = np.argsort(ids, kind="stable")
    ids, created, author = ids[order], created[order], author[order]
    if not ids.size:
        return PostSightings(created, author, ids, ids, ids)
    seen = _epoch(conn, sa.literal_column("member_seen_at"))
    row = conn.execute(
        sa.select(
            sa.func.group_concat(sa.literal_column("post_id"), ","),
            sa.func.group_concat(sa.literal_column("person_id"), ","),
            sa.func.group_concat(seen, ","),
        )
        .select_from(sa.text("post_seen NOT INDEXED"))
        .where(
            sa.literal_column("member_seen_at").is_not(None),
            sa.literal_column("post_id").between(int(ids[0]), int(ids[-1])),
        )
    ).one()
    post, person, at = _ints([row[0]]), _ints([row[1]]), _ints([row[2]])
    index = np.full(int(ids[-1] - ids[0]) + 1, -1, dtype=np.int64)
    index[ids - ids[0]] = np.arange(ids.size, dtype=np.int64)
    slot = index[post - ids[0]]
    mine = slot >= 0  # the id range also holds other spaces' posts, and deleted ones
    return PostSightings(
        post_created=created,
        post_author=author,
        seen_post=slot[mine],
        seen_person=person[mine],
        seen_delay=at[mine] - created[slot[mine]],
    )


def members(conn: Connection, space_id: int) -> list[MemberRow]:
    """The space's active members now, with their zone, hours and when they joined."""
    query = (
        sa.select(
            people.c.id,
            people.c.timezone,
            people.c.work_start,
            people.c.work_end,
            people.c.work_days,
            space_members.c.joined_at,
        )
        .select_from(space_members.join(people, people.c.id == space_members.c.person_id))
        .where(space_members.c.space_id == space_id, people.c.active.is_(True))
        .order_by(people.c.id)
    )
    hours: dict[tuple[int, int, int], WorkingHours] = {}
    found: list[MemberRow] = []
    for person_id, zone, start, end, days, joined_at in conn.execute(query):
        key = (start, end, days)
        if key not in hours:
            hours[key] = WorkingHours(
                time(start // 60, start % 60), time(end // 60, end % 60), mask_to_days(days)
            )
        found.append(MemberRow(person_id, zone, hours[key], joined_at))
    return found


def answering_since(conn: Connection, space_id: int) -> dict[int, datetime]:
    """For each person, the first time they replied to someone else's question in the space
    or had an answer accepted there."""
    replies = (
        sa.select(posts.c.author_id.label("person_id"), posts.c.created_at.label("at"))
        .select_from(topics.join(posts, posts.c.topic_id == topics.c.id))
        .where(
            topics.c.space_id == space_id,
            topics.c.is_question.is_(True),
            posts.c.author_id != topics.c.author_id,
            posts.c.deleted_at.is_(None),
        )
    )
    accepted = (
        sa.select(posts.c.author_id, topics.c.accepted_at)
        .select_from(topics.join(posts, posts.c.id == topics.c.accepted_post_id))
        .where(topics.c.space_id == space_id, topics.c.accepted_at.is_not(None))
    )
    # Grouped outside a UNION ALL: grouping the join itself invites SQLite (once ANALYZE
    # has run) to walk every post in ix_posts_author_id order, ten times slower than
    # following the question topics to their posts.
    both = sa.union_all(replies, accepted).subquery()
    query = sa.select(both.c.person_id, sa.func.min(both.c.at)).group_by(both.c.person_id)
    return {row[0]: row[1] for row in conn.execute(query)}


def questions(conn: Connection, space_id: int, start: datetime, end: datetime) -> list[QuestionRow]:
    """The questions asked in the space in [``start``, ``end``), oldest first."""
    query = (
        sa.select(
            topics.c.id,
            topics.c.author_id,
            topics.c.created_at,
            topics.c.first_reply_at,
            topics.c.accepted_at,
        )
        .where(
            topics.c.space_id == space_id,
            # A topic made since ``start`` has been active since: ix_topics_space_activity.
            topics.c.last_activity_at >= start,
            topics.c.is_question.is_(True),
            topics.c.created_at >= start,
            topics.c.created_at < end,
        )
        .order_by(topics.c.created_at, topics.c.id)
    )
    return [QuestionRow(*row) for row in conn.execute(query)]


def space_facts(conn: Connection, space_id: int) -> list[FactRow]:
    query = sa.select(facts.c.created_at, facts.c.archived_at, facts.c.review_by).where(
        facts.c.space_id == space_id
    )
    return [FactRow(*row) for row in conn.execute(query)]


def correction_reach(conn: Connection, space_id: int, start: datetime, end: datetime) -> list[CorrectionRow]:
    """The corrections made in the space in [``start``, ``end``): for each, how many people
    it told and how many of them have seen it since: the correcting post (a seen receipt),
    or the fact at the corrected version or later."""
    told = correction_recipients.alias("told")
    saw_post = sa.exists().where(
        post_seen.c.post_id == corrections.c.correction_post_id, post_seen.c.person_id == told.c.person_id
    )
    saw_fact = sa.exists().where(
        fact_seen.c.fact_id == corrections.c.fact_id,
        fact_seen.c.person_id == told.c.person_id,
        fact_seen.c.version >= corrections.c.to_version,
    )
    seen = sa.case(
        (sa.and_(corrections.c.kind == "post", saw_post), 1),
        (sa.and_(corrections.c.kind == "fact", saw_fact), 1),
        else_=0,
    )
    query = (
        sa.select(
            corrections.c.created_at, sa.func.count(told.c.person_id), sa.func.coalesce(sa.func.sum(seen), 0)
        )
        .select_from(corrections.outerjoin(told, told.c.correction_id == corrections.c.id))
        .where(
            corrections.c.space_id == space_id,
            corrections.c.created_at >= start,
            corrections.c.created_at < end,
        )
        .group_by(corrections.c.id, corrections.c.created_at)
        .order_by(corrections.c.created_at)
    )
    return [CorrectionRow(r[0], int(r[1]), int(r[2])) for r in conn.execute(query)]


def stored_days(
    conn: Connection, space_id: int, first: date, last: date
) -> dict[date, tuple[dict[str, Any], datetime]]:
    """The stored daily rows of a space between two days (inclusive): metrics, computed_at."""
    query = sa.select(
        space_metrics_daily.c.day, space_metrics_daily.c.metrics, space_metrics_daily.c.computed_at
    ).where(
        space_metrics_daily.c.space_id == space_id,
        space_metrics_daily.c.day >= first,
        space_metrics_daily.c.day <= last,
    )
    return {row[0]: (row[1], row[2]) for row in conn.execute(query)}


def store_days(
    conn: Connection, space_id: int, rows: Mapping[date, dict[str, Any]], computed_at: datetime
) -> None:
    """Insert or replace daily rows."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(space_metrics_daily)
    statement = statement.on_conflict_do_update(
        index_elements=[space_metrics_daily.c.space_id, space_metrics_daily.c.day],
        set_={"metrics": statement.excluded.metrics, "computed_at": statement.excluded.computed_at},
    )
    conn.execute(
        statement,
        [
            {"space_id": space_id, "day": day, "metrics": metrics, "computed_at": computed_at}
            for day, metrics in sorted(rows.items())
        ],
    )


def active_space_ids(conn: Connection) -> list[int]:
    """Every space not archived, for the daily job."""
    query = sa.select(spaces.c.id).where(spaces.c.archived_at.is_(None)).order_by(spaces.c.id)
    return list(conn.execute(query).scalars())
