"""Pydantic models of the API's requests and responses: the edge's contract.

Responses are built from the dicts of :mod:`kith.domain.views`, the same dicts events carry.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Clock = Annotated[str, StringConstraints(max_length=5), Field(examples=["09:00"])]
Days = Annotated[str, StringConstraints(max_length=40), Field(examples=["mon-fri"])]
Zone = Annotated[str, StringConstraints(max_length=64), Field(examples=["Europe/London"])]
EmailText = Annotated[str, StringConstraints(min_length=3, max_length=320)]
RoleName = Literal["member", "analyst", "admin"]


class Strict(BaseModel):
    """A request body: unknown fields are refused, and so are values of the wrong JSON type
    (``0`` or ``"true"`` for a boolean, ``"5"`` for an id) instead of being coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


# errors


class RowErrorOut(BaseModel):
    """One bad line of an imported file (the header is line 1)."""

    line: int
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_input"])
    message: str
    fields: dict[str, str] = Field(default_factory=dict)
    rows: list[RowErrorOut] | None = Field(
        default=None, description="Imports only: every bad line of the file, in file order."
    )


class ErrorResponse(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorBody


# auth and people


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_at: str
    person_id: int


class PersonOut(BaseModel):
    id: int
    email: str
    handle: str
    display_name: str
    title: str
    department: str
    location: str
    manager_id: int | None
    timezone: str
    work_start: str
    work_end: str
    work_days: str
    active: bool


class MeOut(PersonOut):
    role: RoleName


class MeUpdate(Strict):
    display_name: ShortText | None = None
    timezone: Zone | None = None
    work_start: Clock | None = None
    work_end: Clock | None = None
    work_days: Days | None = None


class PersonCreate(Strict):
    email: EmailText
    display_name: ShortText
    title: ShortText = ""
    department: ShortText = ""
    location: ShortText = ""
    manager_id: Id | None = None
    timezone: Zone = "UTC"
    work_start: Clock = "09:00"
    work_end: Clock = "17:00"
    work_days: Days = "mon-fri"
    role: RoleName = "member"
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None


class PersonUpdate(Strict):
    email: EmailText | None = None
    display_name: ShortText | None = None
    title: ShortText | None = None
    department: ShortText | None = None
    location: ShortText | None = None
    manager_id: Id | None = None
    timezone: Zone | None = None
    work_start: Clock | None = None
    work_end: Clock | None = None
    work_days: Days | None = None
    role: RoleName | None = None
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None
    active: bool | None = None


class PeoplePage(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None


class RosterImportOut(BaseModel):
    """What a roster import did."""

    created: int
    updated: int
    unchanged: int


# spaces


SpaceKindName = Literal["community", "team", "announcements"]
VisibilityName = Literal["public", "private"]
LevelName = Literal["all", "mentions", "digest", "mute"]


class SpaceOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    kind: SpaceKindName
    visibility: VisibilityName
    created_by: int | None
    created_at: str
    archived: bool
    seen_by_visible: bool = Field(description="Whether members see who has seen a post.")
    community_id: int | None = Field(
        default=None, description="The detected community (stable id) the space was made from."
    )
    my_role: Literal["owner", "member"] | None
    member_count: int | None
    unread_count: int | None = Field(default=None, description="Unread posts, for members.")
    last_read_post_id: int | None = None


class SpaceCreate(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    slug: Annotated[str, StringConstraints(max_length=64)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    kind: SpaceKindName = "community"
    visibility: VisibilityName = "public"
    seen_by_visible: bool = False


class SpaceUpdate(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    kind: SpaceKindName | None = None
    visibility: VisibilityName | None = None
    seen_by_visible: bool | None = None
    archived: bool | None = None


class MemberOut(BaseModel):
    space_id: int
    person_id: int
    role: Literal["owner", "member"]
    notification_level: LevelName
    joined_at: str


class MemberAdd(Strict):
    person_id: Id
    role: Literal["owner", "member"] = "member"
    notification_level: LevelName | None = None


class NotificationLevelIn(Strict):
    notification_level: LevelName


# topics and posts


Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class TopicOut(BaseModel):
    id: int
    space_id: int
    title: str
    author_id: int
    is_question: bool
    resolved: bool
    accepted_post_id: int | None
    created_at: str
    last_activity_at: str
    post_count: int
    accepted_at: str | None = None
    first_reply_at: str | None = Field(default=None, description="The first reply by someone else.")
    answered: bool = Field(default=False, description="Whether an answer was accepted.")


class TopicCreate(Strict):
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    body: Body
    is_question: bool = False
    urgent: bool = False


class TopicPage(BaseModel):
    items: list[TopicOut]
    next_cursor: str | None


class ResolveIn(Strict):
    resolved: bool


class AcceptIn(Strict):
    post_id: Id | None


class ReactionOut(BaseModel):
    emoji: str
    count: int
    person_ids: list[int]


class PostOut(BaseModel):
    id: int
    topic_id: int
    space_id: int
    author_id: int
    reply_to_id: int | None
    source: str
    html: str
    urgent: bool
    correction_of_id: int | None = Field(default=None, description="The earlier post this one corrects.")
    version: int
    created_at: str
    edited_at: str | None
    deleted: bool
    reactions: list[ReactionOut]


class TopicWithPost(BaseModel):
    topic: TopicOut
    post: PostOut


class PostCreate(Strict):
    body: Body
    reply_to_id: Id | None = None
    urgent: bool = False
    correction_of_id: Id | None = Field(
        default=None,
        description="An earlier post in the same space that this post corrects: "
        "everyone who saw that post is told.",
    )


class PostEdit(Strict):
    body: Body


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class VersionOut(BaseModel):
    version: int
    source: str
    html: str
    editor_id: int
    created_at: str


class HistoryOut(BaseModel):
    post: PostOut
    versions: list[VersionOut] = Field(description="Earlier versions, oldest first.")


class ReactionIn(Strict):
    emoji: Annotated[str, StringConstraints(min_length=1, max_length=66)]


class MentionOut(BaseModel):
    post_id: int
    topic_id: int
    space_id: int
    author_id: int
    created_at: str
    kind: Literal["person", "space"]


class MentionPage(BaseModel):
    items: list[MentionOut]
    next_cursor: str | None


# search and health


class SearchHitOut(BaseModel):
    post_id: int
    topic_id: int
    space_id: int
    topic_title: str
    author_id: int
    created_at: str
    snippet_html: str = Field(description="Escaped text with matches in <mark> elements.")


class SearchOut(BaseModel):
    query: str
    items: list[SearchHitOut]


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    database: bool
    schema_current: bool


# read state and receipts


class MarkReadIn(Strict):
    post_id: Id | None = None


class ReadStateOut(BaseModel):
    space_id: int
    last_read_post_id: int
    unread_count: int


class SeenIn(Strict):
    post_ids: Annotated[list[Id], Field(max_length=500)]


class AwayIn(Strict):
    away: bool


class PresenceOut(BaseModel):
    person_id: int
    status: Literal["online", "idle", "away", "offline"]
    away: bool
    since: str | None
    timezone: str
    local_time: str
    working_now: bool


class PresenceList(BaseModel):
    people: list[PresenceOut]


class SeenOut(BaseModel):
    newly_seen: list[int]


class SeenByOut(BaseModel):
    person_id: int
    seen_at: str


class SeenSummaryOut(BaseModel):
    post_id: int
    member_count: int
    seen_count: int
    first_seen_at: str | None
    last_seen_at: str | None
    seen_by: list[SeenByOut] | None = Field(
        description="Who and when; only for the author, or where the space shows it."
    )
