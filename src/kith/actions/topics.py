"""Topics (threads): starting one, listing, resolving, accepting an answer.

Published events: ``topic.created`` (with the first post's ``post.created``) and
``topic.updated`` (resolved state or accepted answer changed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from kith.actions import interactions
from kith.actions.access import access_readable_space, access_topic
from kith.actions.events import emit
from kith.actions.posts import insert_post, prepare_body
from kith.app import App
from kith.domain import cursors, permissions, validate, views
from kith.domain.errors import Forbidden, invalid
from kith.domain.models import Membership, Page, Post, Space, Topic, Viewer
from kith.storage import posts, topics
from kith.storage.database import Tx

TITLE_MAX = 300


def get_topic(app: App, viewer: Viewer, topic_id: int) -> Topic:
    with app.db.read() as conn:
        return access_topic(conn, viewer, topic_id)[0]


def list_topics(
    app: App,
    viewer: Viewer,
    space_id: int,
    *,
    questions_only: bool = False,
    unresolved_only: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Topic]:
    """Topics of a readable space, most recently active first."""
    after = None
    if cursor:
        stamp, topic_id = cursors.decode(cursor, (str, int))
        try:
            at = datetime.fromisoformat(stamp)
            if at.tzinfo is None:
                raise ValueError("naive")
            # Normalised here: a far-off offset can push the year out of range (OverflowError).
            after = (at.astimezone(UTC), topic_id)
        except (ValueError, OverflowError):
            raise invalid("cursor", "is not a cursor this list returned") from None
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        access_readable_space(conn, viewer, space_id)
        found = topics.list_in_space(
            conn,
            space_id,
            questions_only=questions_only,
            unresolved_only=unresolved_only,
            after=after,
            limit=limit + 1,
        )
    items = tuple(found[:limit])
    more = len(found) > limit and items
    next_cursor = cursors.encode([items[-1].last_activity_at.isoformat(), items[-1].id]) if more else None
    return Page(items, next_cursor)


def check_create_topic(
    app: App,
    viewer: Viewer,
    space_id: int,
    *,
    title: str,
    body: str,
    is_question: bool = False,
    urgent: bool = False,
) -> tuple[Topic, Post]:
    """Start a topic with its first post; members may, and only owners in announcements."""
    clean_title = validate.text("title", title, max_len=TITLE_MAX)
    first_post = prepare_body(body)
    now = app.clock()
    with app.db.transaction() as tx:
        space, membership = access_readable_space(tx.conn, viewer, space_id)
        if not permissions.can_start_topic(viewer, space, membership):
            raise Forbidden(_why_not_post(space, membership, starting=True))
        topic = topics.insert(
            tx.conn,
            {
                "space_id": space_id,
                "title": clean_title,
                "author_id": viewer.id,
                "is_question": is_question,
                "created_at": now,
                "last_activity_at": now,
            },
        )
        emit(
            app,
            tx,
            "topic.created",
            space_id=space_id,
            actor_id=viewer.id,
            payload=views.topic(topic),
        )
        post = insert_post(app, tx, viewer, topic, first_post, reply_to_id=None, urgent=urgent)
        topic = topics.get(tx.conn, topic.id) or topic
    return topic, post


def check_set_resolved(app: App, viewer: Viewer, topic_id: int, *, resolved: bool) -> Topic:
    """Mark a topic resolved or open again (its author, owners, administrators)."""
    with app.db.transaction() as tx:
        topic, space, membership = access_topic(tx.conn, viewer, topic_id)
        if not permissions.can_resolve_topic(viewer, membership, topic):
            raise Forbidden("only the topic's author and the space's owners resolve it")
        if space.archived:
            raise Forbidden("this space is archived")
        if topic.resolved == resolved:
            return topic
        values: dict[str, object] = {"resolved": resolved}
        if not resolved:
            values["accepted_post_id"] = None
            values["accepted_at"] = None
        return _update(app, tx, viewer, topic_id, values)


def check_accept_answer(app: App, viewer: Viewer, topic_id: int, post_id: int | None) -> Topic:
    """The asker or an owner accepts a reply as the answer (None withdraws it).

    Accepting also resolves the topic and marks it a question.
    """
    with app.db.transaction() as tx:
        topic, space, membership = access_topic(tx.conn, viewer, topic_id)
        if not permissions.can_accept_answer(viewer, membership, topic):
            raise Forbidden("only the asker and the space's owners accept an answer")
        if space.archived:
            raise Forbidden("this space is archived")
        if post_id is None:
            values: dict[str, object] = {"accepted_post_id": None, "accepted_at": None, "resolved": False}
        else:
            post = posts.get(tx.conn, post_id, with_reactions=False)
            if post is None or post.topic_id != topic_id or post.deleted:
                raise invalid("post_id", "must be a reply in this topic")
            if _first_post_id(tx.conn, topic_id) == post_id:
                raise invalid("post_id", "the question itself cannot be its answer")
            values = {"accepted_post_id": post_id, "resolved": True, "is_question": True}
            if topic.accepted_post_id != post_id:
                now = app.clock()
                values["accepted_at"] = now
                interactions.record_answer(tx, topic, post, now)
        return _update(app, tx, viewer, topic_id, values)


def _update(app: App, tx: Tx, viewer: Viewer, topic_id: int, values: dict[str, object]) -> Topic:
    """Change a topic and announce it with ``topic.updated``."""
    topic = topics.update(tx.conn, topic_id, values)
    emit(app, tx, "topic.updated", space_id=topic.space_id, actor_id=viewer.id, payload=views.topic(topic))
    return topic


def _first_post_id(conn: Connection, topic_id: int) -> int | None:
    first = posts.list_in_topic(conn, topic_id, after_id=None, limit=1)
    return first[0].id if first else None


def _why_not_post(space: Space, membership: Membership | None, *, starting: bool) -> str:
    if space.archived:
        return "this space is archived"
    if membership is None:
        return "join the space to post in it"
    return "only the owners of an announcements space start topics; reply to one instead"
