"""Frozen value types of the domain. Storage builds them; actions and the edges read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Role(StrEnum):
    """What an account may do across the whole organisation."""

    MEMBER = "member"
    ANALYST = "analyst"
    ADMIN = "admin"


class SpaceKind(StrEnum):
    COMMUNITY = "community"
    TEAM = "team"
    ANNOUNCEMENTS = "announcements"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class MemberRole(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class NotificationLevel(StrEnum):
    ALL = "all"
    MENTIONS = "mentions"
    DIGEST = "digest"
    MUTE = "mute"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Local working hours: ``start``..``end`` on ``days`` (0 = Monday). ``end < start`` spans midnight."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    days: frozenset[int] = frozenset(range(5))


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    email: str
    handle: str
    display_name: str
    title: str
    department: str
    location: str
    manager_id: int | None
    timezone: str
    hours: WorkingHours
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: a signed-in person and their organisation-wide role."""

    person: Person
    role: Role

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Space:
    id: int
    slug: str
    name: str
    description: str
    kind: SpaceKind
    visibility: Visibility
    created_by: int | None
    created_at: datetime
    archived_at: datetime | None
    seen_by_visible: bool = False
    # The detected community (stable id) the space was made from, if any.
    community_id: int | None = None

    @property
    def is_public(self) -> bool:
        return self.visibility is Visibility.PUBLIC

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True, slots=True)
class Membership:
    space_id: int
    person_id: int
    role: MemberRole
    notification_level: NotificationLevel
    joined_at: datetime

    @property
    def is_owner(self) -> bool:
        return self.role is MemberRole.OWNER


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    space_id: int
    title: str
    author_id: int
    is_question: bool
    resolved: bool
    accepted_post_id: int | None
    created_at: datetime
    last_activity_at: datetime
    post_count: int
    accepted_at: datetime | None = None
    first_reply_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    emoji: str
    count: int
    person_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    topic_id: int
    space_id: int
    author_id: int
    source: str
    html: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    version: int
    reply_to_id: int | None
    urgent: bool = False
    reactions: tuple[Reaction, ...] = ()
    correction_of_id: int | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class PostVersion:
    post_id: int
    version: int
    source: str
    html: str
    editor_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Mention:
    post_id: int
    topic_id: int
    space_id: int
    author_id: int
    created_at: datetime
    kind: str
    person_id: int | None


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the event log: what changed, where, and the data a client needs."""

    id: int
    type: str
    space_id: int | None
    actor_id: int | None
    created_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    audience_id: int | None = None
    """When set, the event is for this one person only (their read pointer, their receipts)."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    post_id: int
    topic_id: int
    space_id: int
    topic_title: str
    author_id: int
    created_at: datetime
    snippet_html: str
    rank: float


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Notification:
    """Something one person is told about: a mention, a reply, an answer, a correction..."""

    id: int
    person_id: int
    kind: str
    space_id: int | None
    topic_id: int | None
    post_id: int | None
    fact_id: int | None
    correction_id: int | None
    actor_id: int | None
    urgent: bool
    held: bool
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    digested_at: datetime | None


@dataclass(frozen=True, slots=True)
class Fact:
    """A knowledge card of a space: owned, sourced, due for review by a date, versioned."""

    id: int
    space_id: int
    title: str
    source: str
    html: str
    owner_id: int
    source_url: str
    review_by: date
    version: int
    created_by: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    overdue_notified_for: date | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True, slots=True)
class FactVersion:
    """One version of a fact as its editor wrote it (the current one included)."""

    fact_id: int
    version: int
    title: str
    source: str
    html: str
    owner_id: int
    source_url: str
    review_by: date
    editor_id: int
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Correction:
    """A fact changed, or a post corrected an earlier one; ``recipients`` people who saw
    the earlier version were told, ``seen_since`` of them have seen the correction since."""

    id: int
    space_id: int
    kind: str
    fact_id: int | None
    from_version: int | None
    to_version: int | None
    post_id: int | None
    correction_post_id: int | None
    author_id: int | None
    summary: str
    recipients: int
    created_at: datetime
    seen_since: int = 0


@dataclass(frozen=True, slots=True)
class PersonPrefs:
    """One person's catch-up pointer, personal feed secret (hashed) and digest choice."""

    person_id: int
    caught_up_at: datetime | None = None
    feed_token_hash: str | None = None
    digest_email: bool = True


@dataclass(frozen=True, slots=True)
class Digest:
    """One person's digest for one local working day: sent, empty, failed (retried) or off."""

    person_id: int
    local_date: date
    sent_at: datetime
    items: int
    status: str


@dataclass(frozen=True, slots=True)
class Invitation:
    """A person asked to join a space, with the role they would have; ``status`` is
    ``pending``, ``accepted`` or ``declined`` (a withdrawn invitation is deleted)."""

    space_id: int
    person_id: int
    invited_by: int | None
    role: MemberRole
    status: str
    created_at: datetime
    responded_at: datetime | None


# Faster: similar questions, question routing, send later (docs/faster.md).


@dataclass(frozen=True, slots=True)
class SimilarDoc:
    """One document of the similar-questions corpus: a topic (its title, first post and
    accepted answer) or a fact (its title and body), with the state a reader needs."""

    kind: str  # "topic" or "fact"
    id: int
    space_id: int
    title: str
    text: str
    excerpt_source: str
    created_at: datetime
    is_question: bool = False
    resolved: bool = False
    accepted_post_id: int | None = None
    first_reply_at: datetime | None = None
    post_count: int = 0
    review_by: date | None = None


@dataclass(frozen=True, slots=True)
class SimilarItem:
    """A document found similar to a text, with its cosine similarity and where it lives."""

    doc: SimilarDoc
    score: float
    space_name: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class RoutingReason:
    """Why a person is suggested to answer a question: a kind, a sentence, and its evidence."""

    kind: str  # "similar", "accepted", "answers", "central"
    text: str
    count: int = 0
    topic_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutingCandidate:
    person_id: int
    display_name: str
    score: float
    awake: bool
    wakes_at: datetime | None
    timezone: str
    reasons: tuple[RoutingReason, ...]


@dataclass(frozen=True, slots=True)
class QuestionRouting:
    """A question Kith was asked to route: its stage and when it next widens."""

    topic_id: int
    requested_by: int | None
    requested_at: datetime
    stage: int
    widen_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    """The members most likely to answer a question, ranked, and who was already told."""

    topic_id: int
    routing: QuestionRouting | None
    candidates: tuple[RoutingCandidate, ...]
    told: tuple[int, ...]
    notified: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ScheduledPost:
    """A post written now and sent at ``send_at``: a reply (``topic_id``) or a new topic."""

    id: int
    author_id: int
    space_id: int
    topic_id: int | None
    title: str | None
    source: str
    is_question: bool
    urgent: bool
    reply_to_id: int | None
    correction_of_id: int | None
    send_at: datetime
    status: str  # pending, sent, cancelled, failed
    created_at: datetime
    sent_at: datetime | None
    post_id: int | None
    error: str


@dataclass(frozen=True, slots=True)
class SendTime:
    """The time in the coming week that reaches the most members within working hours."""

    space_id: int
    after: datetime
    grid_minutes: int
    members: int
    at: datetime
    awake_then: int
    now: datetime
    awake_now: int
