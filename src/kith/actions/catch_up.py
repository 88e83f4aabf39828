"""Catch-up: "since you were away", ranked, each item saying why it is there.

What changed since the person's last visit (``person_prefs.caught_up_at``, else 24 hours
ago): mentions of them and replies to their posts, answers to their questions, corrections
of things they saw, new and changed facts in their spaces, then the busiest topics of their
spaces. The order and the scores are in :mod:`kith.domain.catch_up` and docs/notifications.md.
Only spaces the person may read now count; muted spaces are left out (corrections aside).

Published events: none. Marking the catch-up done only moves the person's own pointer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from kith.app import App
from kith.domain import markup
from kith.domain.catch_up import BUSY_TOPICS_MAX, PER_TIER_MAX, CatchUp, CatchUpItem, rank
from kith.domain.errors import invalid
from kith.domain.models import Viewer
from kith.storage import catch_up as store
from kith.storage import prefs, spaces

DEFAULT_WINDOW = timedelta(hours=24)
# The furthest back a catch-up looks: older news belongs to search, not to "since you were away".
MAX_WINDOW = timedelta(days=30)
EXCERPT_LENGTH = 200


def get_catch_up(app: App, viewer: Viewer, since: datetime | None = None) -> CatchUp:
    """What changed for ``viewer`` since ``since`` (default: their last visit), ranked."""
    now = app.clock()
    with app.db.read() as conn:
        start = _start(conn, viewer.id, since, now)
        items = collect(conn, viewer.id, start, now)
    return CatchUp(since=start, until=now, items=tuple(items))


def _start(conn: Connection, person_id: int, since: datetime | None, now: datetime) -> datetime:
    if since is not None:
        if since.tzinfo is None:
            raise invalid("since", "must be a date and time with a time zone, e.g. 2026-03-02T09:00:00Z")
        if since > now:
            raise invalid("since", "must not be in the future")
        return max(since, now - MAX_WINDOW)
    last = prefs.get(conn, person_id).caught_up_at
    return max(last, now - MAX_WINDOW) if last is not None else now - DEFAULT_WINDOW


def collect(conn: Connection, person_id: int, since: datetime, until: datetime) -> list[CatchUpItem]:
    """The ranked catch-up of one person over (``since``, ``until``] (also used by digests)."""
    readable = spaces.readable_space_ids(person_id)
    window = (since, until)
    cap = PER_TIER_MAX
    mentioned = store.mentions_since(conn, person_id, readable, *window, cap)
    seen_posts = {item.post_id for item in mentioned}
    replies = [
        item
        for item in store.notified_since(conn, person_id, "reply", readable, *window, cap)
        if item.post_id not in seen_posts
    ]
    questions = store.my_questions(conn, person_id, readable, *window, cap)
    answered = {item.topic_id for item in questions}
    corrections = store.notified_since(
        conn, person_id, "correction", readable, *window, cap, include_muted=True
    )
    found_facts = store.facts_since(conn, person_id, readable, *window, cap)
    busy = [
        item
        for item in store.busy_topics(conn, person_id, readable, *window, BUSY_TOPICS_MAX + len(answered))
        if item.topic_id not in answered
    ][:BUSY_TOPICS_MAX]
    items = [*mentioned, *replies, *questions, *corrections, *found_facts, *busy]
    return rank(_plain(item) for item in items)


def _plain(item: CatchUpItem) -> CatchUpItem:
    if item.excerpt is None:
        return item
    return replace(item, excerpt=markup.plain_text(item.excerpt, EXCERPT_LENGTH))


def do_catch_up_done(app: App, viewer: Viewer) -> datetime:
    """Mark now as the viewer's last visit: the next catch-up starts here."""
    now = app.clock()
    with app.db.transaction() as tx:
        prefs.set_caught_up(tx.conn, viewer.id, now)
    return now
