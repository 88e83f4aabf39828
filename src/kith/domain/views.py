"""Domain values as plain JSON-ready dicts: the shape the API returns and events carry.

One shape for both is what lets a client build its state from a snapshot plus events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kith.domain.hours import format_days, is_working, local_time
from kith.domain.models import Event, Membership, Notification, Person, Post, Space, Topic
from kith.domain.presence import PresenceState


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def person(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "email": p.email,
        "handle": p.handle,
        "display_name": p.display_name,
        "title": p.title,
        "department": p.department,
        "location": p.location,
        "manager_id": p.manager_id,
        "timezone": p.timezone,
        "work_start": p.hours.start.strftime("%H:%M"),
        "work_end": p.hours.end.strftime("%H:%M"),
        "work_days": format_days(p.hours.days),
        "active": p.active,
    }


def space(s: Space, membership: Membership | None = None, member_count: int | None = None) -> dict[str, Any]:
    return {
        "id": s.id,
        "slug": s.slug,
        "name": s.name,
        "description": s.description,
        "kind": s.kind.value,
        "visibility": s.visibility.value,
        "created_by": s.created_by,
        "created_at": iso(s.created_at),
        "archived": s.archived,
        "seen_by_visible": s.seen_by_visible,
        "community_id": s.community_id,
        "my_role": membership.role.value if membership else None,
        "member_count": member_count,
    }


def membership(m: Membership) -> dict[str, Any]:
    return {
        "space_id": m.space_id,
        "person_id": m.person_id,
        "role": m.role.value,
        "notification_level": m.notification_level.value,
        "joined_at": iso(m.joined_at),
    }


def topic(t: Topic) -> dict[str, Any]:
    return {
        "id": t.id,
        "space_id": t.space_id,
        "title": t.title,
        "author_id": t.author_id,
        "is_question": t.is_question,
        "resolved": t.resolved,
        "accepted_post_id": t.accepted_post_id,
        "created_at": iso(t.created_at),
        "last_activity_at": iso(t.last_activity_at),
        "post_count": t.post_count,
        "accepted_at": iso(t.accepted_at),
        "first_reply_at": iso(t.first_reply_at),
        "answered": t.accepted_post_id is not None,
    }


def post(p: Post) -> dict[str, Any]:
    """A post; a deleted one keeps its place in the thread but loses its content."""
    return {
        "id": p.id,
        "topic_id": p.topic_id,
        "space_id": p.space_id,
        "author_id": p.author_id,
        "reply_to_id": p.reply_to_id,
        "source": "" if p.deleted else p.source,
        "html": "" if p.deleted else p.html,
        "urgent": p.urgent,
        "correction_of_id": p.correction_of_id,
        "version": p.version,
        "created_at": iso(p.created_at),
        "edited_at": iso(p.edited_at),
        "deleted": p.deleted,
        "reactions": [
            {"emoji": r.emoji, "count": r.count, "person_ids": list(r.person_ids)} for r in p.reactions
        ]
        if not p.deleted
        else [],
    }


def presence_change(state: PresenceState) -> dict[str, Any]:
    """What a ``presence.changed`` event says of one person: the part that changes by event."""
    return {
        "person_id": state.person_id,
        "status": state.status,
        "away": state.away,
        "since": iso(state.since),
    }


def presence(state: PresenceState, p: Person, now: datetime) -> dict[str, Any]:
    """A person's presence as ``GET /presence`` returns it: the event's part, plus their
    time zone, local time and whether ``now`` is within their working hours (which move with
    the clock, not by event)."""
    local = local_time(p.timezone, now)
    return {
        **presence_change(state),
        "timezone": p.timezone,
        "local_time": local.replace(microsecond=0).isoformat(),
        "working_now": is_working(p.hours, p.timezone, now),
    }


def event(e: Event) -> dict[str, Any]:
    """An event as the stream sends it; clients dedupe by ``id``."""
    return {
        "id": e.id,
        "type": e.type,
        "space_id": e.space_id,
        "actor_id": e.actor_id,
        "created_at": iso(e.created_at),
        "payload": e.payload,
    }


def notification(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "space_id": n.space_id,
        "topic_id": n.topic_id,
        "post_id": n.post_id,
        "fact_id": n.fact_id,
        "correction_id": n.correction_id,
        "actor_id": n.actor_id,
        "urgent": n.urgent,
        "held": n.held,
        "payload": n.payload,
        "created_at": iso(n.created_at),
        "read": n.read_at is not None,
    }
