"""Posts: writing, editing (every earlier version kept), deleting, reactions, mentions.

Published events: ``post.created``, ``post.edited``, ``post.deleted``, ``reaction.added``,
``reaction.removed``. A post's payload lists the people it mentions, so that the real-time
layer can notify them without another query.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from kith.actions import interactions, post_notices
from kith.actions.access import access_post, access_topic
from kith.actions.events import emit
from kith.app import App
from kith.domain import cursors, markup, permissions, validate, views
from kith.domain.errors import Forbidden, invalid
from kith.domain.models import Mention, Page, Post, PostVersion, Topic, Viewer
from kith.storage import people, posts, spaces, topics
from kith.storage.database import Tx

SOURCE_MAX = 20_000


def list_posts(
    app: App, viewer: Viewer, topic_id: int, *, cursor: str | None = None, limit: int = 100
) -> Page[Post]:
    """Posts of a readable topic, oldest first."""
    after = cursors.decode(cursor, (int,))[0] if cursor else None
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        access_topic(conn, viewer, topic_id)
        found = posts.list_in_topic(conn, topic_id, after_id=after, limit=limit + 1)
    items = tuple(found[:limit])
    more = len(found) > limit and items
    return Page(items, cursors.encode([items[-1].id]) if more else None)


def get_post(app: App, viewer: Viewer, post_id: int) -> Post:
    with app.db.read() as conn:
        return access_post(conn, viewer, post_id)[0]


def check_create_post(
    app: App,
    viewer: Viewer,
    topic_id: int,
    source: str | PostBody,
    *,
    reply_to_id: int | None = None,
    urgent: bool = False,
    correction_of_id: int | None = None,
) -> Post:
    """Reply in a topic; members of the space may (comments on announcements included).

    ``source`` is the Markdown, or the :class:`PostBody` made of it by :func:`prepare_body`
    ahead of time (the API does, so that rendering stays outside a shared transaction).
    """
    body = source if isinstance(source, PostBody) else prepare_body(source)
    with app.db.transaction() as tx:
        topic, space, membership = access_topic(tx.conn, viewer, topic_id)
        if not permissions.can_reply(viewer, space, membership):
            raise Forbidden("this space is archived" if space.archived else "join the space to post in it")
        return insert_post(
            app,
            tx,
            viewer,
            topic,
            body,
            reply_to_id=reply_to_id,
            urgent=urgent,
            correction_of_id=correction_of_id,
        )


@dataclass(frozen=True, slots=True)
class PostBody:
    """A post's text, checked and rendered: the work done before taking the write lock."""

    source: str
    html: str
    mentions: markup.MentionRefs


def prepare_body(source: str) -> PostBody:
    """Validate, render and sanitise ``source`` and find its mentions, in one Markdown parse.

    Callers do this before opening their transaction: on SQLite the transaction holds the
    database's one write lock, and rendering is the longest step of writing a post.
    """
    clean = validate.text("body", source, max_len=SOURCE_MAX, multiline=True)
    rendered = markup.render_with_mentions(clean)
    return PostBody(clean, rendered.html, rendered.mentions)


def insert_post(
    app: App,
    tx: Tx,
    viewer: Viewer,
    topic: Topic,
    body: PostBody,
    *,
    reply_to_id: int | None,
    urgent: bool,
    correction_of_id: int | None = None,
) -> Post:
    """Write a post in ``tx`` (permission already checked), emit ``post.created`` and tell the
    people it concerns (:mod:`kith.actions.post_notices`)."""
    reply_to_author: int | None = None
    if reply_to_id is not None:
        target = posts.get(tx.conn, reply_to_id, with_reactions=False)
        if target is None or target.topic_id != topic.id:
            raise invalid("reply_to_id", "must be a post in the same topic")
        reply_to_author = target.author_id
    now = app.clock()
    post = posts.insert(
        tx.conn,
        {
            "topic_id": topic.id,
            "space_id": topic.space_id,
            "author_id": viewer.id,
            "reply_to_id": reply_to_id,
            "source": body.source,
            "html": body.html,
            "urgent": urgent,
            "correction_of_id": correction_of_id,
            "created_at": now,
        },
    )
    mentioned, everyone = _store_mentions(tx.conn, post, body.mentions, new=True)
    interactions.record_post(tx, post, topic, mentioned, reply_to_author)
    topics.record_post(tx.conn, topic.id, now, viewer.id)
    payload = {**views.post(post), "mentions": sorted(mentioned), "mentions_space": everyone}
    emit(app, tx, "post.created", space_id=post.space_id, actor_id=viewer.id, payload=payload)
    post_notices.tell(
        app,
        tx,
        post,
        topic,
        mentioned=mentioned,
        reply_to_author=reply_to_author,
        awake=body.mentions.awake,
    )
    if correction_of_id is not None:
        post_notices.correct(app, tx, post, topic, correction_of_id)
    return post


def check_edit_post(app: App, viewer: Viewer, post_id: int, source: str) -> Post:
    """The author edits a post; the version it replaces is kept in its history."""
    body = prepare_body(source)
    with app.db.transaction() as tx:
        post, space, _membership = access_post(tx.conn, viewer, post_id)
        if not permissions.can_edit_post(viewer, space, post):
            raise Forbidden("only the author edits a post, and not once it is deleted")
        if body.source == post.source:
            return post
        posts.save_version(tx.conn, post, editor_id=viewer.id)
        updated = posts.update(
            tx.conn,
            post_id,
            {
                "source": body.source,
                "html": body.html,
                "version": post.version + 1,
                "edited_at": app.clock(),
            },
        )
        mentioned, everyone = _store_mentions(tx.conn, updated, body.mentions, new=False)
        payload = {**views.post(updated), "mentions": sorted(mentioned), "mentions_space": everyone}
        emit(app, tx, "post.edited", space_id=post.space_id, actor_id=viewer.id, payload=payload)
    return updated


def check_delete_post(app: App, viewer: Viewer, post_id: int) -> Post:
    """Soft-delete: the post keeps its place in the thread, its content is no longer shown."""
    with app.db.transaction() as tx:
        post, space, membership = access_post(tx.conn, viewer, post_id)
        if not permissions.can_delete_post(viewer, space, membership, post):
            raise Forbidden("only the author, the space's owners and administrators delete a post")
        deleted = posts.update(tx.conn, post_id, {"deleted_at": app.clock()})
        topics.forget_post(tx.conn, post.topic_id)
        emit(
            app,
            tx,
            "post.deleted",
            space_id=post.space_id,
            actor_id=viewer.id,
            payload=views.post(deleted),
        )
    return deleted


def get_history(app: App, viewer: Viewer, post_id: int) -> tuple[Post, list[PostVersion]]:
    """A post and every earlier version of it, oldest first (none for a deleted post)."""
    with app.db.read() as conn:
        post, _space, _membership = access_post(conn, viewer, post_id)
        return post, ([] if post.deleted else posts.versions(conn, post_id))


def check_react(app: App, viewer: Viewer, post_id: int, emoji: str, *, add: bool = True) -> Post:
    """Add or remove one's reaction; doing what is already done changes nothing."""
    name = validate.emoji("emoji", emoji)
    with app.db.transaction() as tx:
        post, space, membership = access_post(tx.conn, viewer, post_id)
        if not permissions.can_react(viewer, space, membership) or post.deleted:
            raise Forbidden("this post cannot take reactions")
        now = app.clock()
        changed = (
            posts.add_reaction(tx.conn, post_id, viewer.id, name, now)
            if add
            else posts.remove_reaction(tx.conn, post_id, viewer.id, name)
        )
        if changed and add:
            interactions.record_reaction(tx, post, viewer.id, now)
        if changed:
            payload = {
                "post_id": post_id,
                "topic_id": post.topic_id,
                "person_id": viewer.id,
                "emoji": name,
            }
            kind = "reaction.added" if add else "reaction.removed"
            emit(app, tx, kind, space_id=post.space_id, actor_id=viewer.id, payload=payload)
        return posts.get(tx.conn, post_id) or post


def list_mentions(app: App, viewer: Viewer, *, cursor: str | None = None, limit: int = 50) -> Page[Mention]:
    """Posts that mention the viewer, newest first, in spaces the viewer may read now."""
    before = cursors.decode(cursor, (int,))[0] if cursor else None
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        found = posts.mentions_of(
            conn,
            viewer.id,
            spaces.readable_space_ids(viewer.id),
            before_post_id=before,
            limit=limit + 1,
        )
    items = tuple(found[:limit])
    more = len(found) > limit and items
    return Page(items, cursors.encode([items[-1].post_id]) if more else None)


def _store_mentions(
    conn: Connection, post: Post, refs: markup.MentionRefs, *, new: bool
) -> tuple[set[int], bool]:
    if new:  # the hot path: one statement finds and records the people named
        ids = posts.mention_people(
            conn, post.id, author_id=post.author_id, handles=refs.handles, emails=refs.emails
        )
        posts.add_mentions(conn, post.id, (), space=refs.space)
        return ids, refs.space
    ids = set(people.ids_by_handles(conn, refs.handles).values()) if refs.handles else set()
    if refs.emails:
        ids |= set(people.ids_by_emails(conn, refs.emails).values())
    ids.discard(post.author_id)
    posts.replace_mentions(conn, post.id, ids, space=refs.space)
    return ids, refs.space
