"""Send later: posts written now and sent at a chosen time, and the time to suggest.

A scheduled post is a reply in a topic (``topic_id``) or a new topic (``title``). Whether
the author may post there is checked when it is scheduled and again when it is sent: the
periodic job :func:`send_due` sends each due post through the ordinary actions
(:func:`kith.actions.topics.check_create_topic`, :func:`kith.actions.posts.check_create_post`),
so its events, notifications, mentions and ties are those of a post written then. If the
author can no longer post there (they left the space, it was archived or made private,
the topic or the post replied to is gone, their account was deactivated), the post is
marked ``failed`` with the reason and the author is told (notification ``send_failed``).

Each due post is claimed by a conditional update inside the sending transaction, so two
processes running the job never send one post twice.

:func:`suggest_send_time`: the time in the next seven days, on a quarter-hour grid, at
which the most members of a space are within their working hours (``docs/faster.md``).

Published events, personal to the author (a scheduled post is theirs alone):
``scheduled_post.created`` and ``scheduled_post.updated`` (edited, cancelled, sent,
failed), each with the scheduled post's view; when sent, the ordinary post events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kith.actions import posts as post_actions
from kith.actions import topics as topic_actions
from kith.actions.access import access_readable_space, access_topic
from kith.actions.events import emit
from kith.actions.notify import Notice, excerpt, notify
from kith.app import App
from kith.domain import hours, permissions, validate, views
from kith.domain.errors import Conflict, Forbidden, KithError, NotFound, invalid
from kith.domain.models import Post, ScheduledPost, SendTime, Viewer
from kith.storage import accounts, people, posts, spaces
from kith.storage import scheduled as store
from kith.storage.database import Tx

STATUSES = ("pending", "sent", "cancelled", "failed")
DUE_BATCH = 100
GRID_MINUTES = 15
SUGGEST_DAYS = 7


@dataclass(frozen=True, slots=True)
class ScheduleInput:
    """A post to send later, as its author gave it."""

    space_id: int
    body: str
    send_at: str | datetime
    topic_id: int | None = None
    title: str | None = None
    is_question: bool = False
    urgent: bool = False
    reply_to_id: int | None = None
    correction_of_id: int | None = None


def parse_time(field: str, value: str | datetime) -> datetime:
    """An ISO 8601 date and time with a UTC offset, as an aware UTC datetime."""
    try:
        at = datetime.fromisoformat(value.strip()) if isinstance(value, str) else value
        if at.tzinfo is None:
            raise invalid(field, "needs a UTC offset, like 2026-03-03T09:00:00+08:00 or ...Z")
        return at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid(field, "is not a date and time like 2026-03-03T09:00:00+08:00") from None


def _send_at(app: App, value: str | datetime) -> datetime:
    at = parse_time("send_at", value)
    now = app.clock()
    if at <= now:
        raise invalid("send_at", "must be in the future")
    if at > now + timedelta(days=app.settings.scheduled_max_days):
        raise invalid("send_at", f"must be at most {app.settings.scheduled_max_days} days ahead")
    return at


def _check_shape(data: ScheduleInput) -> str | None:
    """The rules between fields; returns the cleaned title of a new topic."""
    if data.topic_id is not None:
        if data.title is not None:
            raise invalid("title", "leave it out to reply in a topic (topic_id)")
        if data.is_question:
            raise invalid("is_question", "only a new topic (title) can be a question")
        return None
    if data.title is None:
        raise invalid("title", "a new topic needs a title; or give topic_id to reply in a topic")
    for field, value in (("reply_to_id", data.reply_to_id), ("correction_of_id", data.correction_of_id)):
        if value is not None:
            raise invalid(field, "only for a reply in a topic (topic_id)")
    return validate.text("title", data.title, max_len=topic_actions.TITLE_MAX)


def check_schedule_post(app: App, viewer: Viewer, data: ScheduleInput) -> ScheduledPost:
    """Schedule a post; the author must be allowed to post there now (and will be checked again)."""
    title = _check_shape(data)
    body = post_actions.prepare_body(data.body)
    send_at = _send_at(app, data.send_at)
    with app.db.transaction() as tx:
        space, membership = access_readable_space(tx.conn, viewer, data.space_id)
        if data.topic_id is not None:
            topic, _space, _membership = access_topic(tx.conn, viewer, data.topic_id)
            if topic.space_id != space.id:
                raise invalid("topic_id", "must be a topic of the space space_id")
            if not permissions.can_reply(viewer, space, membership):
                raise Forbidden(
                    "this space is archived" if space.archived else "join the space to post in it"
                )
            for field, post_id in (
                ("reply_to_id", data.reply_to_id),
                ("correction_of_id", data.correction_of_id),
            ):
                target = posts.get(tx.conn, post_id, with_reactions=False) if post_id is not None else None
                if post_id is not None and (target is None or target.topic_id != topic.id or target.deleted):
                    raise invalid(field, "must be a post in the same topic")
        elif not permissions.can_start_topic(viewer, space, membership):
            raise Forbidden("you may not start a topic in this space")
        scheduled = store.insert(
            tx.conn,
            {
                "author_id": viewer.id,
                "space_id": space.id,
                "topic_id": data.topic_id,
                "title": title,
                "source": body.source,
                "is_question": data.is_question,
                "urgent": data.urgent,
                "reply_to_id": data.reply_to_id,
                "correction_of_id": data.correction_of_id,
                "send_at": send_at,
                "status": "pending",
                "created_at": app.clock(),
            },
        )
        _announce(app, tx, scheduled, created=True)
    return scheduled


def list_scheduled(
    app: App, viewer: Viewer, *, status: str | None = None, limit: int = 100
) -> list[ScheduledPost]:
    """The viewer's scheduled posts: pending first (soonest first), then the others (latest first)."""
    if status is not None and status not in STATUSES:
        raise invalid("status", f"must be one of: {', '.join(STATUSES)}")
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        return store.list_for(conn, viewer.id, status=status, limit=limit)


def get_scheduled(app: App, viewer: Viewer, scheduled_id: int) -> ScheduledPost:
    with app.db.read() as conn:
        return _own(store.get(conn, scheduled_id), viewer, scheduled_id)


def _own(found: ScheduledPost | None, viewer: Viewer, scheduled_id: int) -> ScheduledPost:
    if found is None or found.author_id != viewer.id:
        raise NotFound(f"no scheduled post with id {scheduled_id}")
    return found


def check_edit_scheduled(
    app: App,
    viewer: Viewer,
    scheduled_id: int,
    *,
    body: str | None = None,
    send_at: str | datetime | None = None,
    title: str | None = None,
    urgent: bool | None = None,
) -> ScheduledPost:
    """Change a pending scheduled post's text, time, title (a new topic's) or urgency."""
    values: dict[str, object] = {}
    if body is not None:
        values["source"] = post_actions.prepare_body(body).source
    if send_at is not None:
        values["send_at"] = _send_at(app, send_at)
    if urgent is not None:
        values["urgent"] = urgent
    with app.db.transaction() as tx:
        scheduled = _own(store.get(tx.conn, scheduled_id), viewer, scheduled_id)
        if scheduled.status != "pending":
            raise Conflict(f"this scheduled post is {scheduled.status}; only a pending one changes")
        if title is not None:
            if scheduled.topic_id is not None:
                raise invalid("title", "a reply in a topic has no title")
            values["title"] = validate.text("title", title, max_len=topic_actions.TITLE_MAX)
        if not values:
            return scheduled
        changed = store.update(tx.conn, scheduled_id, values)
        _announce(app, tx, changed, created=False)
    return changed


def check_cancel_scheduled(app: App, viewer: Viewer, scheduled_id: int) -> ScheduledPost:
    """Cancel a pending scheduled post (cancelling one already cancelled changes nothing)."""
    with app.db.transaction() as tx:
        scheduled = _own(store.get(tx.conn, scheduled_id), viewer, scheduled_id)
        if scheduled.status == "cancelled":
            return scheduled
        if scheduled.status != "pending":
            raise Conflict(f"this scheduled post is {scheduled.status}; only a pending one is cancelled")
        cancelled = store.update(tx.conn, scheduled_id, {"status": "cancelled"})
        _announce(app, tx, cancelled, created=False)
    return cancelled


def send_due(app: App) -> int:
    """The periodic job: send every scheduled post due now; returns how many were sent."""
    now = app.clock()
    with app.db.read() as conn:
        due = store.due(conn, now, limit=DUE_BATCH)
    sent = 0
    for scheduled_id in due:
        with app.db.transaction() as tx:
            claimed = store.claim(tx.conn, scheduled_id, now)
            if claimed is None:  # sent, cancelled or edited meanwhile, maybe by another process
                continue
            try:
                post = _send(app, tx, claimed)
            except KithError as error:  # the post's own savepoint has undone its part
                _fail(app, tx, claimed, error.message)
                continue
            done = store.update(tx.conn, scheduled_id, {"post_id": post.id, "topic_id": post.topic_id})
            _announce(app, tx, done, created=False)
            sent += 1
    return sent


def _send(app: App, tx: Tx, scheduled: ScheduledPost) -> Post:
    """Post as the author would now, through the ordinary actions (each a savepoint of ``tx``)."""
    author = people.get(tx.conn, scheduled.author_id)
    if author is None or not author.active:
        raise Forbidden("the author's account is deactivated")
    viewer = Viewer(author, accounts.get_role(tx.conn, author.id))
    if scheduled.topic_id is None:
        _topic, post = topic_actions.check_create_topic(
            app,
            viewer,
            scheduled.space_id,
            title=scheduled.title or "",
            body=scheduled.source,
            is_question=scheduled.is_question,
            urgent=scheduled.urgent,
        )
        return post
    return post_actions.check_create_post(
        app,
        viewer,
        scheduled.topic_id,
        scheduled.source,
        reply_to_id=scheduled.reply_to_id,
        urgent=scheduled.urgent,
        correction_of_id=scheduled.correction_of_id,
    )


def _fail(app: App, tx: Tx, scheduled: ScheduledPost, reason: str) -> None:
    failed = store.update(tx.conn, scheduled.id, {"status": "failed", "sent_at": None, "error": reason})
    _announce(app, tx, failed, created=False)
    # No space on the notice: the author is told even of a space they can no longer read,
    # about their own words only.
    notify(
        app,
        tx,
        {scheduled.author_id},
        Notice(
            "send_failed",
            payload={
                "scheduled_post_id": scheduled.id,
                "title": scheduled.title,
                "excerpt": excerpt(scheduled.source),
                "error": reason,
            },
        ),
    )


def _announce(app: App, tx: Tx, scheduled: ScheduledPost, *, created: bool) -> None:
    """``scheduled_post.created`` or ``scheduled_post.updated``, for the author alone."""
    kind = "scheduled_post.created" if created else "scheduled_post.updated"
    emit(
        app,
        tx,
        kind,
        space_id=None,
        actor_id=scheduled.author_id,
        payload=views.scheduled_post(scheduled),
        audience_id=scheduled.author_id,
    )


def suggest_send_time(
    app: App, viewer: Viewer, space_id: int, after: str | datetime | None = None
) -> SendTime:
    """The quarter hour in the next seven days (from ``after``, or now) at which the most
    members of the space (the viewer aside) are within their working hours; the earliest of
    equals. Also how many are within them now."""
    now = app.clock()
    start = now if after is None else max(parse_time("after", after), now)
    if start > now + timedelta(days=app.settings.scheduled_max_days):
        raise invalid("after", f"must be at most {app.settings.scheduled_max_days} days ahead")
    with app.db.read() as conn:
        access_readable_space(conn, viewer, space_id)
        found = people.get_many(conn, spaces.member_ids(conn, space_id) - {viewer.id})
    members = [p for p in found.values() if p.active]
    grid = timedelta(minutes=GRID_MINUTES)
    first = _ceil(start, grid)
    slots = SUGGEST_DAYS * 24 * 60 // GRID_MINUTES
    end = first + slots * grid
    change = [0] * (slots + 1)
    for person in members:
        for opens, closes in hours.work_periods(person.hours, person.timezone, first, end):
            change[-((first - opens) // grid)] += 1  # the first slot at or after ``opens``
            change[-((first - closes) // grid)] -= 1  # the first slot at or after ``closes``
    best, best_count, running = 0, -1, 0
    for slot in range(slots):
        running += change[slot]
        if running > best_count:
            best, best_count = slot, running
    awake_now = sum(hours.is_working(p.hours, p.timezone, now) for p in members)
    return SendTime(
        space_id=space_id,
        after=start,
        grid_minutes=GRID_MINUTES,
        members=len(members),
        at=first + best * grid,
        awake_then=best_count,
        now=now,
        awake_now=awake_now,
    )


def _ceil(at: datetime, step: timedelta) -> datetime:
    """``at`` rounded up to a multiple of ``step`` since the epoch (UTC)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + -((epoch - at) // step) * step
