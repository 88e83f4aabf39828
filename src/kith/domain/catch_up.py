"""Catch-up: what changed since a person's last visit, ranked, each item saying why.

Pure: storage finds the candidates, this module orders them and words the reason.

The order is by tier first, then within a tier:

====  ==========================================  ==========================================
tier  reasons                                     order within the tier
====  ==========================================  ==========================================
1     ``mention``, ``reply`` (to my post)         urgent first, then newest first
2     ``answer`` (new replies to my open           urgent first, then newest first
      question), ``accepted`` (its answer chosen)
3     ``correction`` (of a post or fact I saw)     urgent first, then newest first
4     ``fact_new``, ``fact_changed``               newest first
5     ``busy_topic``                               score, highest first: new posts by others
                                                  + 3 x distinct other participants; ties
                                                  by latest activity
====  ==========================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

TIERS: dict[str, int] = {
    "mention": 1,
    "reply": 1,
    "answer": 2,
    "accepted": 2,
    "correction": 3,
    "fact_new": 4,
    "fact_changed": 4,
    "busy_topic": 5,
}
PARTICIPANT_WEIGHT = 3
BUSY_TOPICS_MAX = 10
PER_TIER_MAX = 25


@dataclass(frozen=True, slots=True)
class CatchUpItem:
    """One thing worth the person's attention, with what a client needs to show it."""

    reason: str
    at: datetime
    space_id: int
    space_slug: str
    space_name: str
    topic_id: int | None = None
    topic_title: str | None = None
    post_id: int | None = None
    excerpt: str | None = None
    fact_id: int | None = None
    fact_title: str | None = None
    fact_version: int | None = None
    correction_id: int | None = None
    actor_id: int | None = None
    actor_name: str | None = None
    urgent: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    score: float = 0.0
    why: str = ""


@dataclass(frozen=True, slots=True)
class CatchUp:
    since: datetime
    until: datetime
    items: tuple[CatchUpItem, ...]


def busy_score(posts: int, participants: int) -> float:
    """A topic's weight in the busiest list: every new post counts, every voice three times.

    >>> busy_score(posts=10, participants=2)
    16.0
    """
    return float(posts + PARTICIPANT_WEIGHT * participants)


def rank(items: Iterable[CatchUpItem]) -> list[CatchUpItem]:
    """Order the items (module docstring), each with its ``why`` sentence filled in."""

    def key(item: CatchUpItem) -> tuple[Any, ...]:
        return (TIERS[item.reason], -item.score, not item.urgent, -item.at.timestamp(), item.reason)

    return [replace(item, why=explain(item)) for item in sorted(items, key=key)]


def _quoted(text: str | None) -> str:
    return f"“{text}”" if text else "a topic"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def explain(item: CatchUpItem) -> str:
    """The human sentence of why the item is in the catch-up."""
    who = item.actor_name or "Someone"
    topic = _quoted(item.topic_title)
    counts = item.counts
    match item.reason:
        case "mention":
            return f"{who} mentioned you in {topic}"
        case "reply":
            return f"{who} replied to your post in {topic}"
        case "answer":
            replies = counts.get("replies", 1)
            if replies == 1:
                return f"{who} answered your question {topic}"
            return f"{replies} new replies to your question {topic}"
        case "accepted":
            return f"An answer by {who} was accepted for your question {topic}"
        case "correction":
            if item.fact_id is not None:
                return f"{who} corrected the fact {_quoted(item.fact_title)}, which you had seen"
            return f"{who} corrected a post you saw in {topic}"
        case "fact_new":
            return f"{who} added the fact {_quoted(item.fact_title)} in {item.space_name}"
        case "fact_changed":
            return f"{who} updated the fact {_quoted(item.fact_title)} in {item.space_name}"
        case "busy_topic":
            posts = _plural(counts.get("posts", 0), "new post", "new posts")
            people = _plural(counts.get("participants", 0), "person", "people")
            return f"{posts} from {people} in {topic} ({item.space_name})"
    raise ValueError(f"unknown catch-up reason {item.reason!r}")  # pragma: no cover - TIERS is closed


def view(item: CatchUpItem) -> dict[str, Any]:
    """The JSON shape of an item, as the API and the feeds use it."""
    return {
        "reason": item.reason,
        "why": item.why or explain(item),
        "tier": TIERS[item.reason],
        "score": item.score,
        "at": item.at.isoformat(),
        "urgent": item.urgent,
        "space": {"id": item.space_id, "slug": item.space_slug, "name": item.space_name},
        "topic": {"id": item.topic_id, "title": item.topic_title} if item.topic_id is not None else None,
        "post": {"id": item.post_id, "excerpt": item.excerpt} if item.post_id is not None else None,
        "fact": {"id": item.fact_id, "title": item.fact_title, "version": item.fact_version}
        if item.fact_id is not None
        else None,
        "correction_id": item.correction_id,
        "actor": {"id": item.actor_id, "display_name": item.actor_name}
        if item.actor_id is not None
        else None,
        "counts": dict(item.counts),
    }


def notification_sentence(
    kind: str, actor_name: str | None, space_name: str | None, payload: dict[str, Any]
) -> str:
    """What a notification says, as a sentence (digests and feeds)."""
    who = actor_name or "Someone"
    topic = _quoted(payload.get("topic_title"))
    where = space_name or "a space"
    match kind:
        case "mention":
            return f"{who} mentioned you in {topic}"
        case "reply":
            return f"{who} replied to you in {topic}"
        case "answer":
            return f"{who} answered your question {topic}"
        case "correction":
            if payload.get("fact_title") or payload.get("title"):
                return (
                    f"{who} corrected the fact {_quoted(payload.get('fact_title') or payload.get('title'))}"
                )
            return f"{who} corrected a post you saw in {topic}"
        case "awake":
            return f"{who} asked who is awake in {topic}"
        case "question":
            return f"{who}'s question {topic} in {where} could use your answer"
        case "fact_overdue":
            return f"Your fact {_quoted(payload.get('title') or payload.get('fact_title'))} is due for review"
        case "invitation":
            named = _quoted(payload["space_name"]) if payload.get("space_name") else where
            return f"{who} invited you to join {named}"
        case "send_failed":
            title = _quoted(payload.get("title")) if payload.get("title") else "your scheduled post"
            return f"Kith could not send {title}: {payload.get('error') or 'you can no longer post there'}"
    return f"{who}: {kind} in {where}"


def link(
    base_url: str,
    *,
    space_id: int | None = None,
    topic_id: int | None = None,
    post_id: int | None = None,
) -> str:
    """The web address of a post, a topic or a space (the most precise one known).

    >>> link("https://kith.example.com", topic_id=4, post_id=17)
    'https://kith.example.com/topics/4#post-17'
    """
    if topic_id is not None:
        anchor = f"#post-{post_id}" if post_id is not None else ""
        return f"{base_url}/topics/{topic_id}{anchor}"
    if space_id is not None:
        return f"{base_url}/spaces/{space_id}"
    return f"{base_url}/"
