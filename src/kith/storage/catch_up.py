"""The candidates of a person's catch-up, one query (or two) per kind of reason.

Each function returns :class:`~kith.domain.catch_up.CatchUpItem` values whose ``excerpt``
is still the post's Markdown source (the action turns it into plain text) and whose
``why`` is left for :func:`kith.domain.catch_up.rank`. Every query is limited to spaces
the person may read now (``readable``) and leaves out the spaces they muted, except for
corrections (what you saw was wrong, muted or not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.catch_up import BUSY_TOPICS_MAX, CatchUpItem, busy_score
from kith.storage.tables import (
    events,
    fact_versions,
    facts,
    mentions,
    notifications,
    people,
    posts,
    space_members,
    spaces,
    topics,
)

actor = people.alias("actor")


def muted_space_ids(person_id: int) -> sa.Select[tuple[int]]:
    return sa.select(space_members.c.space_id).where(
        space_members.c.person_id == person_id, space_members.c.notification_level == "mute"
    )


def followed_space_ids(person_id: int) -> sa.Select[tuple[int]]:
    """The person's spaces: member of, not muted (``digest`` included)."""
    return sa.select(space_members.c.space_id).where(
        space_members.c.person_id == person_id, space_members.c.notification_level != "mute"
    )


def _where(space_id: sa.ColumnElement[Any], person_id: int, readable: sa.Select[tuple[int]]) -> Any:
    return sa.and_(space_id.in_(readable), space_id.not_in(muted_space_ids(person_id)))


def _space(row: RowMapping) -> dict[str, Any]:
    return {"space_id": row["space_id"], "space_slug": row["slug"], "space_name": row["space_name"]}


def mentions_since(
    conn: Connection,
    person_id: int,
    readable: sa.Select[tuple[int]],
    since: datetime,
    until: datetime,
    limit: int,
) -> list[CatchUpItem]:
    """Live posts by others naming the person, newest first."""
    query = (
        sa.select(
            posts.c.id,
            posts.c.topic_id,
            posts.c.space_id,
            posts.c.author_id,
            posts.c.source,
            posts.c.created_at,
            posts.c.urgent,
            topics.c.title,
            spaces.c.slug,
            spaces.c.name.label("space_name"),
            actor.c.display_name,
        )
        .select_from(
            mentions.join(posts, posts.c.id == mentions.c.post_id)
            .join(topics, topics.c.id == posts.c.topic_id)
            .join(spaces, spaces.c.id == posts.c.space_id)
            .join(actor, actor.c.id == posts.c.author_id)
        )
        .where(
            mentions.c.person_id == person_id,
            mentions.c.kind == "person",
            posts.c.deleted_at.is_(None),
            posts.c.author_id != person_id,
            posts.c.created_at > since,
            posts.c.created_at <= until,
            _where(posts.c.space_id, person_id, readable),
        )
        .order_by(posts.c.id.desc())
        .limit(limit)
    )
    return [
        CatchUpItem(
            reason="mention",
            at=row["created_at"],
            **_space(row),
            topic_id=row["topic_id"],
            topic_title=row["title"],
            post_id=row["id"],
            excerpt=row["source"],
            actor_id=row["author_id"],
            actor_name=row["display_name"],
            urgent=bool(row["urgent"]),
        )
        for row in conn.execute(query).mappings()
    ]


def notified_since(
    conn: Connection,
    person_id: int,
    kind: str,
    readable: sa.Select[tuple[int]],
    since: datetime,
    until: datetime,
    limit: int,
    *,
    include_muted: bool = False,
) -> list[CatchUpItem]:
    """The person's notifications of ``kind`` (``reply``, ``correction``) about live posts
    or facts, newest first; the post's current text or the fact's title beside each."""
    space_filter = (
        notifications.c.space_id.in_(readable)
        if include_muted
        else _where(notifications.c.space_id, person_id, readable)
    )
    query = (
        sa.select(
            notifications.c.id.label("notification_id"),
            notifications.c.topic_id,
            notifications.c.post_id,
            notifications.c.fact_id,
            notifications.c.correction_id,
            notifications.c.actor_id,
            notifications.c.urgent,
            notifications.c.payload,
            notifications.c.created_at,
            notifications.c.space_id,
            spaces.c.slug,
            spaces.c.name.label("space_name"),
            actor.c.display_name,
            topics.c.title,
            posts.c.source,
            facts.c.title.label("fact_title"),
            facts.c.version.label("fact_version"),
        )
        .select_from(
            notifications.join(spaces, spaces.c.id == notifications.c.space_id)
            .outerjoin(actor, actor.c.id == notifications.c.actor_id)
            .outerjoin(topics, topics.c.id == notifications.c.topic_id)
            .outerjoin(posts, posts.c.id == notifications.c.post_id)
            .outerjoin(facts, facts.c.id == notifications.c.fact_id)
        )
        .where(
            notifications.c.person_id == person_id,
            notifications.c.kind == kind,
            notifications.c.created_at > since,
            notifications.c.created_at <= until,
            posts.c.deleted_at.is_(None),
            space_filter,
        )
        .order_by(notifications.c.id.desc())
        .limit(limit)
    )
    found = []
    for row in conn.execute(query).mappings():
        payload = dict(row["payload"] or {})
        found.append(
            CatchUpItem(
                reason=kind,
                at=row["created_at"],
                **_space(row),
                topic_id=row["topic_id"],
                topic_title=row["title"] or payload.get("topic_title"),
                post_id=row["post_id"],
                excerpt=row["source"],
                fact_id=row["fact_id"],
                fact_title=row["fact_title"],
                fact_version=row["fact_version"],
                correction_id=row["correction_id"],
                actor_id=row["actor_id"],
                actor_name=row["display_name"],
                urgent=bool(row["urgent"]),
            )
        )
    return found


def my_questions(
    conn: Connection,
    person_id: int,
    readable: sa.Select[tuple[int]],
    since: datetime,
    until: datetime,
    limit: int,
) -> list[CatchUpItem]:
    """The person's questions with replies by others since (``answer``, open ones) or an
    answer accepted since (``accepted``), newest activity first."""
    asked = (
        sa.select(topics, spaces.c.slug, spaces.c.name.label("space_name"))
        .select_from(topics.join(spaces, spaces.c.id == topics.c.space_id))
        .where(
            topics.c.author_id == person_id,
            topics.c.is_question.is_(True),
            sa.or_(
                topics.c.last_activity_at > since,
                sa.and_(topics.c.accepted_at > since, topics.c.accepted_at <= until),
            ),
            _where(topics.c.space_id, person_id, readable),
        )
        .order_by(topics.c.last_activity_at.desc())
        .limit(limit)
    )
    questions = list(conn.execute(asked).mappings())
    if not questions:
        return []
    replies = _replies_since(conn, [q["id"] for q in questions if not q["resolved"]], person_id, since, until)
    accepted = [q["accepted_post_id"] for q in questions if _accepted_since(q, since, until)]
    wanted = [last for _count, last in replies.values()] + accepted
    shown = _posts_with_authors(conn, wanted)
    found: list[CatchUpItem] = []
    for q in questions:
        if q["id"] in replies:
            count, last = replies[q["id"]]
            found.append(_question_item("answer", q, shown.get(last), {"replies": count}))
        if _accepted_since(q, since, until) and q["accepted_post_id"] in shown:
            acceptor = _accepted_by(conn, q["space_id"], q["id"])
            if acceptor != person_id:
                found.append(
                    _question_item("accepted", q, shown[q["accepted_post_id"]], {}, q["accepted_at"])
                )
    return found


def _accepted_since(question: RowMapping, since: datetime, until: datetime) -> bool:
    at = question["accepted_at"]
    return question["accepted_post_id"] is not None and at is not None and since < at <= until


def _question_item(
    reason: str,
    question: RowMapping,
    post: RowMapping | None,
    counts: dict[str, int],
    at: datetime | None = None,
) -> CatchUpItem:
    return CatchUpItem(
        reason=reason,
        at=at or (post["created_at"] if post else question["last_activity_at"]),
        space_id=question["space_id"],
        space_slug=question["slug"],
        space_name=question["space_name"],
        topic_id=question["id"],
        topic_title=question["title"],
        post_id=post["id"] if post else None,
        excerpt=post["source"] if post else None,
        actor_id=post["author_id"] if post else None,
        actor_name=post["display_name"] if post else None,
        urgent=bool(post["urgent"]) if post else False,
        counts=counts,
    )


def _replies_since(
    conn: Connection, topic_ids: list[int], person_id: int, since: datetime, until: datetime
) -> dict[int, tuple[int, int]]:
    """topic -> (live replies by others since, the last one's id)."""
    if not topic_ids:
        return {}
    query = (
        sa.select(posts.c.topic_id, sa.func.count(), sa.func.max(posts.c.id))
        .where(
            posts.c.topic_id.in_(topic_ids),
            posts.c.author_id != person_id,
            posts.c.deleted_at.is_(None),
            posts.c.created_at > since,
            posts.c.created_at <= until,
        )
        .group_by(posts.c.topic_id)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}


def _posts_with_authors(conn: Connection, post_ids: list[int]) -> dict[int, RowMapping]:
    if not post_ids:
        return {}
    query = (
        sa.select(
            posts.c.id,
            posts.c.author_id,
            posts.c.source,
            posts.c.created_at,
            posts.c.urgent,
            actor.c.display_name,
        )
        .select_from(posts.join(actor, actor.c.id == posts.c.author_id))
        .where(posts.c.id.in_(sorted(set(post_ids))), posts.c.deleted_at.is_(None))
    )
    return {row["id"]: row for row in conn.execute(query).mappings()}


def _accepted_by(conn: Connection, space_id: int, topic_id: int) -> int | None:
    """Who last changed the topic (its ``topic.updated`` event): who accepted the answer."""
    query = (
        sa.select(events.c.actor_id)
        .where(
            events.c.space_id == space_id,
            events.c.type == "topic.updated",
            events.c.payload["id"].as_integer() == topic_id,
        )
        .order_by(events.c.id.desc())
        .limit(1)
    )
    value: int | None = conn.execute(query).scalar_one_or_none()
    return value


def facts_since(
    conn: Connection,
    person_id: int,
    readable: sa.Select[tuple[int]],
    since: datetime,
    until: datetime,
    limit: int,
) -> list[CatchUpItem]:
    """Facts of the person's spaces added or changed since, by others, newest first."""
    latest = sa.and_(fact_versions.c.fact_id == facts.c.id, fact_versions.c.version == facts.c.version)
    query = (
        sa.select(
            facts.c.id,
            facts.c.title,
            facts.c.version,
            facts.c.html,
            facts.c.created_at,
            facts.c.updated_at,
            facts.c.space_id,
            spaces.c.slug,
            spaces.c.name.label("space_name"),
            fact_versions.c.editor_id,
            actor.c.display_name,
        )
        .select_from(
            facts.join(spaces, spaces.c.id == facts.c.space_id)
            .outerjoin(fact_versions, latest)
            .outerjoin(actor, actor.c.id == sa.func.coalesce(fact_versions.c.editor_id, facts.c.created_by))
        )
        .where(
            facts.c.space_id.in_(followed_space_ids(person_id)),
            facts.c.space_id.in_(readable),
            facts.c.archived_at.is_(None),
            facts.c.updated_at > since,
            facts.c.updated_at <= until,
            sa.func.coalesce(fact_versions.c.editor_id, facts.c.created_by) != person_id,
        )
        .order_by(facts.c.updated_at.desc(), facts.c.id.desc())
        .limit(limit)
    )
    found = []
    for row in conn.execute(query).mappings():
        new = row["created_at"] > since
        found.append(
            CatchUpItem(
                reason="fact_new" if new else "fact_changed",
                at=row["updated_at"],
                **_space(row),
                fact_id=row["id"],
                fact_title=row["title"],
                fact_version=row["version"],
                actor_id=row["editor_id"],
                actor_name=row["display_name"],
            )
        )
    return found


def busy_topics(
    conn: Connection,
    person_id: int,
    readable: sa.Select[tuple[int]],
    since: datetime,
    until: datetime,
    limit: int = BUSY_TOPICS_MAX,
) -> list[CatchUpItem]:
    """The busiest topics of the person's spaces since: live posts by others and how many
    different people wrote them, weighted (:func:`~kith.domain.catch_up.busy_score`)."""
    count = sa.func.count().label("n")
    voices = sa.func.count(sa.distinct(posts.c.author_id)).label("voices")
    score = (count + sa.literal(3) * voices).label("score")
    activity = (
        sa.select(posts.c.topic_id, count, voices, sa.func.max(posts.c.id).label("last_id"), score)
        .where(
            posts.c.space_id.in_(followed_space_ids(person_id)),
            posts.c.space_id.in_(readable),
            posts.c.created_at > since,
            posts.c.created_at <= until,
            posts.c.author_id != person_id,
            posts.c.deleted_at.is_(None),
        )
        .group_by(posts.c.topic_id)
        .order_by(score.desc(), sa.func.max(posts.c.id).desc())
        .limit(limit)
    )
    top = list(conn.execute(activity).mappings())
    if not top:
        return []
    last_posts = _posts_with_authors(conn, [row["last_id"] for row in top])
    titles = {
        row["id"]: row
        for row in conn.execute(
            sa.select(
                topics.c.id,
                topics.c.title,
                topics.c.space_id,
                spaces.c.slug,
                spaces.c.name.label("space_name"),
            )
            .select_from(topics.join(spaces, spaces.c.id == topics.c.space_id))
            .where(topics.c.id.in_([row["topic_id"] for row in top]))
        ).mappings()
    }
    found = []
    for row in top:
        topic, post = titles[row["topic_id"]], last_posts.get(row["last_id"])
        found.append(
            CatchUpItem(
                reason="busy_topic",
                at=post["created_at"] if post else until,
                **_space(topic),
                topic_id=topic["id"],
                topic_title=topic["title"],
                post_id=post["id"] if post else None,
                excerpt=post["source"] if post else None,
                actor_id=post["author_id"] if post else None,
                actor_name=post["display_name"] if post else None,
                counts={"posts": int(row["n"]), "participants": int(row["voices"])},
                score=busy_score(int(row["n"]), int(row["voices"])),
            )
        )
    return found
