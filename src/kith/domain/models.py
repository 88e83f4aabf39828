"""Frozen value types of the domain. Storage builds them; actions and the edges read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
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
