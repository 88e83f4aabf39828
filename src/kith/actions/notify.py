"""Telling people: notifications with levels and quiet hours.

Every feature that tells someone something (mentions, replies, answers to a question,
corrections, ``@awake``, routed questions, overdue facts, invitations) goes through
:func:`notify`. It writes one row per person told, never one per member of a space (rule 7:
a post that mentions nobody writes no notification at all), and decides per person:

- **Level** (per space, ``space_members.notification_level``): ``all`` and ``mentions``
  are told live; ``digest`` holds every notification for the next digest; ``mute`` drops
  them, except corrections (held: what you saw was wrong) and notifications about the
  person's own things (an overdue fact they own, an invitation).
- **Quiet hours**: outside the person's working hours (their time zone) a notification is
  held for the digest at the start of their next working day, unless it is urgent.
- **Readability**: nobody is told about a private space they are not a member of.

A live notification is published as a ``notification.created`` event for that person
alone; a held one waits, silent, and appears in the digest, the catch-up and the list.

Published events: ``notification.created``, ``notification.read`` (both personal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kith.actions.events import emit
from kith.app import App
from kith.domain import cursors, hours, views
from kith.domain.models import Notification, Page, Viewer, WorkingHours
from kith.storage import notifications as store
from kith.storage import spaces
from kith.storage.database import Tx
from kith.storage.people import from_row as person_from_row

KINDS = (
    "mention",
    "reply",
    "answer",
    "correction",
    "awake",
    "question",
    "fact_overdue",
    "invitation",
    "send_failed",
)
# Kinds about the person's own things: told even in a muted space.
_OWN = frozenset({"fact_overdue", "invitation", "send_failed"})
EXCERPT_MAX = 200


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell: the kind, where, who did it, and what a reader needs to see."""

    kind: str
    space_id: int | None = None
    topic_id: int | None = None
    post_id: int | None = None
    fact_id: int | None = None
    correction_id: int | None = None
    actor_id: int | None = None
    urgent: bool = False
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    told: bool
    held: bool


def decide(
    kind: str,
    *,
    level: str | None,
    member: bool,
    private: bool,
    urgent: bool,
    working: bool,
) -> Decision:
    """Whether and how one person is told (pure; the rules of the module docstring)."""
    if private and not member:
        return Decision(told=False, held=False)
    if level == "mute" and kind not in _OWN:
        if kind != "correction":
            return Decision(told=False, held=False)
        return Decision(told=True, held=True)
    if urgent:
        return Decision(told=True, held=False)
    if level == "digest" and kind not in _OWN:
        return Decision(told=True, held=True)
    return Decision(told=True, held=not working)


def notify(app: App, tx: Tx, person_ids: Iterable[int], notice: Notice) -> list[Notification]:
    """Tell ``person_ids`` about ``notice`` in ``tx``; returns the notifications written.

    The actor is never told about their own doing; inactive people are not told.
    """
    assert notice.kind in KINDS, notice.kind
    wanted = set(person_ids)
    if notice.actor_id is not None:
        wanted.discard(notice.actor_id)
    if not wanted:
        return []
    now = app.clock()
    rows: list[dict[str, Any]] = []
    for row in store.recipients(tx.conn, wanted, notice.space_id):
        person = person_from_row(row)
        decision = decide(
            notice.kind,
            level=row["level"],
            member=row["level"] is not None,
            private=bool(row["private"]),
            urgent=notice.urgent,
            working=hours.is_working(person.hours, person.timezone, now),
        )
        if not decision.told:
            continue
        rows.append(
            {
                "person_id": person.id,
                "kind": notice.kind,
                "space_id": notice.space_id,
                "topic_id": notice.topic_id,
                "post_id": notice.post_id,
                "fact_id": notice.fact_id,
                "correction_id": notice.correction_id,
                "actor_id": notice.actor_id,
                "urgent": notice.urgent,
                "held": decision.held,
                "payload": notice.payload,
                "created_at": now,
            }
        )
    written = store.insert_many(tx.conn, rows)
    for item in written:
        if not item.held:
            emit(
                app,
                tx,
                "notification.created",
                space_id=None,
                actor_id=item.actor_id,
                payload=views.notification(item),
                audience_id=item.person_id,
            )
    return written


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    """The start of a post's Markdown source on one line, for a notification."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def held_until(person_hours: WorkingHours, zone: str, at: datetime) -> datetime:
    """When a notification held at ``at`` reaches the person: their next working start."""
    return hours.next_work_start(person_hours, zone, at)


def list_notifications(
    app: App,
    viewer: Viewer,
    *,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Notification]:
    """The viewer's notifications, newest first, in spaces they may still read."""
    before = cursors.decode(cursor, (int,))[0] if cursor else None
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        found = store.list_for(
            conn,
            viewer.id,
            before_id=before,
            limit=limit + 1,
            unread_only=unread_only,
            readable=spaces.readable_space_ids(viewer.id),
        )
    items = tuple(found[:limit])
    more = len(found) > limit and items
    return Page(items, cursors.encode([items[-1].id]) if more else None)


def check_mark_read(app: App, viewer: Viewer, ids: Sequence[int] | None) -> int:
    """Mark some (``ids``) or all of the viewer's notifications read; returns how many changed."""
    if ids is not None:
        ids = sorted(set(ids))
    with app.db.transaction() as tx:
        changed = store.mark_read(tx.conn, viewer.id, ids, app.clock())
        if changed:
            emit(
                app,
                tx,
                "notification.read",
                space_id=None,
                actor_id=viewer.id,
                payload={"ids": sorted(ids) if ids is not None else None},
                audience_id=viewer.id,
            )
        return changed


def unread_count(app: App, viewer: Viewer) -> int:
    """The viewer's unread notifications in spaces they may still read."""
    with app.db.read() as conn:
        return store.unread_count(conn, viewer.id, spaces.readable_space_ids(viewer.id))
