"""Domain values as plain JSON-ready dicts: the shape the API returns and events carry.

One shape for both is what lets a client build its state from a snapshot plus events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kith.domain.hours import format_days, is_working, local_time
from kith.domain.models import (
    Correction,
    Event,
    Fact,
    FactVersion,
    Invitation,
    Membership,
    Notification,
    Person,
    Post,
    QuestionRouting,
    RoutingCandidate,
    RoutingPlan,
    ScheduledPost,
    SendTime,
    SimilarItem,
    Space,
    Topic,
)
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


def fact(f: Fact, today: date) -> dict[str, Any]:
    """A fact; ``overdue`` is as of ``today`` (the UTC date): its review-by date has passed."""
    return {
        "id": f.id,
        "space_id": f.space_id,
        "title": f.title,
        "source": f.source,
        "html": f.html,
        "owner_id": f.owner_id,
        "source_url": f.source_url,
        "review_by": f.review_by.isoformat(),
        "version": f.version,
        "created_by": f.created_by,
        "created_at": iso(f.created_at),
        "updated_at": iso(f.updated_at),
        "archived": f.archived,
        "overdue": not f.archived and f.review_by < today,
    }


def fact_version(v: FactVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "title": v.title,
        "source": v.source,
        "html": v.html,
        "owner_id": v.owner_id,
        "source_url": v.source_url,
        "review_by": v.review_by.isoformat(),
        "editor_id": v.editor_id,
        "note": v.note,
        "created_at": iso(v.created_at),
    }


def correction(c: Correction) -> dict[str, Any]:
    """A correction with how many were told and how many have seen it since (no names)."""
    return {
        "id": c.id,
        "space_id": c.space_id,
        "kind": c.kind,
        "fact_id": c.fact_id,
        "from_version": c.from_version,
        "to_version": c.to_version,
        "post_id": c.post_id,
        "correction_post_id": c.correction_post_id,
        "author_id": c.author_id,
        "summary": c.summary,
        "recipients": c.recipients,
        "seen_since": c.seen_since,
        "created_at": iso(c.created_at),
    }


def invitation(i: Invitation, s: Space | None = None) -> dict[str, Any]:
    """An invitation to a space; with ``s``, what the invitee may see of the space (its
    name and description, even when it is private: the invitation shows them that much)."""
    view: dict[str, Any] = {
        "space_id": i.space_id,
        "person_id": i.person_id,
        "invited_by": i.invited_by,
        "role": i.role.value,
        "status": i.status,
        "created_at": iso(i.created_at),
        "responded_at": iso(i.responded_at),
    }
    if s is not None:
        view["space"] = {
            "id": s.id,
            "slug": s.slug,
            "name": s.name,
            "description": s.description,
            "kind": s.kind.value,
            "visibility": s.visibility.value,
            "archived": s.archived,
            "community_id": s.community_id,
        }
    return view


# Faster: similar questions, question routing, send later.


def similar_item(item: SimilarItem) -> dict[str, Any]:
    """An earlier topic or fact found similar to a question being written."""
    d = item.doc
    return {
        "kind": d.kind,
        "id": d.id,
        "title": d.title,
        "space_id": d.space_id,
        "space_name": item.space_name,
        "score": round(item.score, 4),
        "excerpt": item.excerpt,
        "created_at": iso(d.created_at),
        "is_question": d.is_question if d.kind == "topic" else None,
        "answered": d.accepted_post_id is not None if d.kind == "topic" else None,
        "accepted_post_id": d.accepted_post_id,
        "replied": d.first_reply_at is not None if d.kind == "topic" else None,
        "resolved": d.resolved if d.kind == "topic" else None,
        "post_count": d.post_count if d.kind == "topic" else None,
        "review_by": d.review_by.isoformat() if d.review_by is not None else None,
    }


def question_routing(r: QuestionRouting) -> dict[str, Any]:
    return {
        "topic_id": r.topic_id,
        "requested_by": r.requested_by,
        "requested_at": iso(r.requested_at),
        "stage": r.stage,
        "widen_at": iso(r.widen_at),
        "done_at": iso(r.done_at),
    }


def routing_candidate(c: RoutingCandidate) -> dict[str, Any]:
    return {
        "person_id": c.person_id,
        "display_name": c.display_name,
        "score": round(c.score, 4),
        "awake": c.awake,
        "wakes_at": iso(c.wakes_at),
        "timezone": c.timezone,
        "reasons": [
            {"kind": r.kind, "text": r.text, "count": r.count, "topic_ids": list(r.topic_ids)}
            for r in c.reasons
        ],
    }


def routing_plan(plan: RoutingPlan) -> dict[str, Any]:
    return {
        "topic_id": plan.topic_id,
        "routing": question_routing(plan.routing) if plan.routing is not None else None,
        "candidates": [routing_candidate(c) for c in plan.candidates],
        "told": list(plan.told),
        "notified": list(plan.notified),
    }


def scheduled_post(s: ScheduledPost) -> dict[str, Any]:
    """A scheduled post, as its author (its only reader) sees it."""
    return {
        "id": s.id,
        "space_id": s.space_id,
        "topic_id": s.topic_id,
        "title": s.title,
        "body": s.source,
        "is_question": s.is_question,
        "urgent": s.urgent,
        "reply_to_id": s.reply_to_id,
        "correction_of_id": s.correction_of_id,
        "send_at": iso(s.send_at),
        "status": s.status,
        "created_at": iso(s.created_at),
        "sent_at": iso(s.sent_at),
        "post_id": s.post_id,
        "error": s.error,
    }


def send_time(t: SendTime) -> dict[str, Any]:
    return {
        "space_id": t.space_id,
        "after": iso(t.after),
        "grid_minutes": t.grid_minutes,
        "members": t.members,
        "suggested": {"at": iso(t.at), "members_working": t.awake_then},
        "now": {"at": iso(t.now), "members_working": t.awake_now},
    }
