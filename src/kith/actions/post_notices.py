"""Who a new post tells: the people it mentions, the author it replies to, the asker it
answers, the members awake now (``@awake``), and everyone who saw the post it corrects.

Called by :func:`kith.actions.posts.insert_post` inside the post's transaction. A post that
does none of these writes nothing more than the post (rule 7); ``@space`` is not turned into
a notification per member: clients alert on the post's ``mentions_space`` flag.
"""

from __future__ import annotations

from kith.actions.corrections import do_record
from kith.actions.notify import Notice, excerpt, notify
from kith.app import App
from kith.domain import hours
from kith.domain.errors import invalid
from kith.domain.models import Post, Topic
from kith.storage import corrections, people, posts, spaces
from kith.storage.database import Tx


def tell(
    app: App,
    tx: Tx,
    post: Post,
    topic: Topic,
    *,
    mentioned: set[int],
    reply_to_author: int | None,
    awake: bool,
) -> None:
    """Notify, once each, the people this post concerns (the author never)."""
    payload = {"topic_title": topic.title, "excerpt": excerpt(post.source)}

    def notice(kind: str) -> Notice:
        return Notice(
            kind,
            space_id=post.space_id,
            topic_id=topic.id,
            post_id=post.id,
            actor_id=post.author_id,
            urgent=post.urgent,
            payload=payload,
        )

    told: set[int] = {post.author_id}
    if mentioned:
        notify(app, tx, mentioned - told, notice("mention"))
        told |= mentioned
    if reply_to_author is not None and reply_to_author not in told:
        notify(app, tx, {reply_to_author}, notice("reply"))
        told.add(reply_to_author)
    is_answer = topic.is_question and not topic.resolved and topic.post_count > 0
    if is_answer and topic.author_id not in told:
        notify(app, tx, {topic.author_id}, notice("answer"))
        told.add(topic.author_id)
    if awake:
        now = app.clock()
        members = spaces.member_ids(tx.conn, post.space_id) - told
        found = people.get_many(tx.conn, members)
        awake_now = {p.id for p in found.values() if hours.is_working(p.hours, p.timezone, now)}
        notify(app, tx, awake_now, notice("awake"))


def correct(app: App, tx: Tx, post: Post, topic: Topic, corrected_id: int) -> int:
    """Record that ``post`` corrects ``corrected_id`` and tell exactly who saw that post.

    The corrected post must be an earlier, undeleted post of the same space. Returns the
    correction's id. Its recipients are everyone with a seen receipt for the corrected post
    (except the correction's author) who may still read the space, whatever their
    notification level allows them to be told now; the metrics count how many of them have
    since seen the correction. Emits ``correction.created``.
    """
    target = posts.get(tx.conn, corrected_id, with_reactions=False)
    if target is None or target.space_id != post.space_id or target.id >= post.id or target.deleted:
        raise invalid("correction_of_id", "must be an earlier post in the same space")
    summary = excerpt(post.source, 500)
    return do_record(
        app,
        tx,
        {
            "space_id": post.space_id,
            "kind": "post",
            "post_id": target.id,
            "correction_post_id": post.id,
            "author_id": post.author_id,
            "summary": summary,
        },
        corrections.viewers_of_post(tx.conn, target.id),
        Notice(
            "correction",
            space_id=post.space_id,
            topic_id=topic.id,
            post_id=post.id,
            actor_id=post.author_id,
            urgent=post.urgent,
            payload={
                "topic_title": topic.title,
                "corrected_post_id": target.id,
                "was": excerpt(target.source),
                "now": summary,
            },
        ),
    )
