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


# facts and corrections

FactText = Annotated[str, StringConstraints(max_length=40_000)]
DateText = Annotated[str, StringConstraints(max_length=40), Field(examples=["2026-06-30"])]
UrlText = Annotated[
    str, StringConstraints(max_length=4000), Field(examples=["https://example.com/price-list"])
]
NoteText = Annotated[str, StringConstraints(max_length=2000)]


class FactCreate(Strict):
    title: FactText
    body: FactText = Field(description="Markdown.")
    source_url: UrlText = ""
    review_by: DateText | None = Field(
        default=None, description="YYYY-MM-DD; default: 90 days from today (UTC)."
    )
    owner_id: Id | None = Field(default=None, description="A member of the space; default: me.")
    note: NoteText = ""


class FactEdit(Strict):
    title: FactText | None = None
    body: FactText | None = None
    source_url: UrlText | None = None
    review_by: DateText | None = None
    owner_id: Id | None = None
    note: NoteText = Field(default="", description="Why it changed; kept with the version.")


class FactReviewIn(Strict):
    review_by: DateText | None = Field(
        default=None, description="YYYY-MM-DD; default: 90 days from today (UTC)."
    )


class FactOut(BaseModel):
    id: int
    space_id: int
    title: str
    source: str
    html: str
    owner_id: int
    source_url: str
    review_by: str
    version: int
    created_by: int
    created_at: str
    updated_at: str
    archived: bool
    overdue: bool


class FactPage(BaseModel):
    items: list[FactOut]
    next_cursor: str | None


class FactVersionOut(BaseModel):
    version: int
    title: str
    source: str
    html: str
    owner_id: int
    source_url: str
    review_by: str
    editor_id: int
    note: str
    created_at: str


class FactHistoryOut(BaseModel):
    fact: FactOut
    versions: list[FactVersionOut] = Field(description="Every version, oldest first; the current one last.")


class FactSeenIn(Strict):
    fact_ids: Annotated[list[Id], Field(max_length=500)]


class FactSeenOut(BaseModel):
    newly_seen: list[int]


class CorrectionOut(BaseModel):
    id: int
    space_id: int
    kind: Literal["fact", "post"]
    fact_id: int | None
    from_version: int | None
    to_version: int | None
    post_id: int | None
    correction_post_id: int | None
    author_id: int | None
    summary: str
    recipients: int = Field(description="People who saw the earlier version and were told.")
    seen_since: int = Field(description="Of those, how many have seen the correction since.")
    created_at: str


class CorrectionPage(BaseModel):
    items: list[CorrectionOut]
    next_cursor: str | None


# notifications, catch-up, digests and feeds


class NotificationOut(BaseModel):
    id: int
    kind: str
    space_id: int | None
    topic_id: int | None
    post_id: int | None
    fact_id: int | None
    correction_id: int | None
    actor_id: int | None
    urgent: bool
    held: bool = Field(description="Held for the digest (quiet hours or digest level): no live alert.")
    payload: dict[str, object]
    created_at: str
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class NotificationsReadIn(Strict):
    """Either ``ids`` (some of mine) or ``all: true``."""

    ids: Annotated[list[Id], Field(min_length=1, max_length=500)] | None = None
    all: bool | None = None


class NotificationsReadOut(BaseModel):
    changed: int
    unread: int


class NotificationCountOut(BaseModel):
    unread: int


class CatchUpSpaceOut(BaseModel):
    id: int
    slug: str
    name: str


class CatchUpTopicOut(BaseModel):
    id: int
    title: str | None


class CatchUpPostOut(BaseModel):
    id: int
    excerpt: str | None


class CatchUpFactOut(BaseModel):
    id: int
    title: str | None
    version: int | None


class CatchUpActorOut(BaseModel):
    id: int
    display_name: str | None


class CatchUpItemOut(BaseModel):
    reason: Literal[
        "mention", "reply", "answer", "accepted", "correction", "fact_new", "fact_changed", "busy_topic"
    ]
    why: str = Field(description="Why the item is here, as a sentence.")
    tier: int = Field(description="1 mentions and replies ... 5 busiest topics; items come in tier order.")
    score: float = Field(description="Busiest topics: new posts + 3 x participants; 0 otherwise.")
    at: str
    urgent: bool
    space: CatchUpSpaceOut
    topic: CatchUpTopicOut | None
    post: CatchUpPostOut | None
    fact: CatchUpFactOut | None
    correction_id: int | None
    actor: CatchUpActorOut | None
    counts: dict[str, int]


class CatchUpOut(BaseModel):
    since: str
    until: str
    items: list[CatchUpItemOut]


class CaughtUpOut(BaseModel):
    caught_up_at: str


class DigestPrefIn(Strict):
    email: bool


class DigestPrefOut(BaseModel):
    email: bool


class FeedTokenOut(BaseModel):
    url: str = Field(description="The personal feed's secret address; shown this once.")


# invitations and spaces made from communities


class InvitationSpaceOut(BaseModel):
    """What an invitee sees of the space, even a private one: its name and description."""

    id: int
    slug: str
    name: str
    description: str
    kind: SpaceKindName
    visibility: VisibilityName
    archived: bool
    community_id: int | None


class InvitationOut(BaseModel):
    space_id: int
    person_id: int
    invited_by: int | None
    role: Literal["owner", "member"]
    status: Literal["pending", "accepted", "declined", "withdrawn"]
    created_at: str
    responded_at: str | None
    space: InvitationSpaceOut | None = None


class InviteIn(Strict):
    person_ids: list[Id] | None = Field(
        default=None, max_length=500, description="The people to invite; or send suggested: true."
    )
    suggested: bool = Field(
        default=False,
        description="A space made from a community: invite the community's suggested additions.",
    )
    role: Literal["owner", "member"] = "member"


class InviteOut(BaseModel):
    invited: list[InvitationOut]
    skipped: dict[str, list[int]] = Field(
        default_factory=dict,
        description="People left out, by why: members, pending, accepted, declined.",
    )


class CommunitySpaceIn(Strict):
    """Everything optional: the proposal's values are used for what is not given."""

    run_id: Id | None = Field(default=None, description="A run; default: the newest with the community.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    slug: Annotated[str, StringConstraints(max_length=64)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    visibility: VisibilityName = "private"
    owners: list[Id] | None = Field(default=None, min_length=1, max_length=10)


# faster: similar questions, question routing, send later


class SimilarItemOut(BaseModel):
    """An earlier topic or fact like the question being written."""

    kind: Literal["topic", "fact"]
    id: int
    title: str
    space_id: int
    space_name: str
    score: float = Field(description="Cosine similarity of TF-IDF vectors, 0 to 1.")
    excerpt: str = Field(description="The start of the first post (a fact: its text), as plain text.")
    created_at: str
    is_question: bool | None = Field(description="Topics only.")
    answered: bool | None = Field(description="Topics only: whether an answer was accepted.")
    accepted_post_id: int | None
    replied: bool | None = Field(description="Topics only: whether someone besides the asker replied.")
    resolved: bool | None
    post_count: int | None
    review_by: str | None = Field(description="Facts only: the review-by date.")


class SimilarOut(BaseModel):
    items: list[SimilarItemOut]


class RoutingReasonOut(BaseModel):
    kind: Literal["similar", "accepted", "answers", "central"]
    text: str
    count: int
    topic_ids: list[int] = Field(description="For `similar`: the similar questions they answered.")


class RoutingCandidateOut(BaseModel):
    person_id: int
    display_name: str
    score: float
    awake: bool = Field(description="Within their working hours now.")
    wakes_at: str | None = Field(description="When their next working period starts, if not awake.")
    timezone: str
    reasons: list[RoutingReasonOut]


class QuestionRoutingOut(BaseModel):
    topic_id: int
    requested_by: int | None
    requested_at: str
    stage: int
    widen_at: str | None = Field(description="When more people are told if it is still unanswered.")
    done_at: str | None = Field(description="When widening stopped: answered, or nobody left.")


class RoutingOut(BaseModel):
    topic_id: int
    routing: QuestionRoutingOut | None
    candidates: list[RoutingCandidateOut] = Field(description="Awake first, then by score.")
    told: list[int] = Field(description="Everyone already told about this question.")
    notified: list[int] = Field(description="Those told by this request.")


class RouteIn(Strict):
    notify: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = Field(
        default=None, description="Members to tell; left out: the top awake candidates."
    )


IsoTime = Annotated[
    str, StringConstraints(min_length=1, max_length=64), Field(examples=["2026-03-03T09:00:00+08:00"])
]


class ScheduledPostIn(Strict):
    space_id: Id
    topic_id: Id | None = Field(default=None, description="Reply in this topic; or give `title`.")
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = Field(
        default=None, description="Start a new topic with this title."
    )
    body: Body
    is_question: bool = False
    urgent: bool = False
    reply_to_id: Id | None = None
    correction_of_id: Id | None = None
    send_at: IsoTime = Field(description="ISO 8601 with a UTC offset; in the future.")


class ScheduledPostEdit(Strict):
    body: Body | None = None
    send_at: IsoTime | None = None
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    urgent: bool | None = None


class ScheduledPostOut(BaseModel):
    id: int
    space_id: int
    topic_id: int | None
    title: str | None
    body: str
    is_question: bool
    urgent: bool
    reply_to_id: int | None
    correction_of_id: int | None
    send_at: str
    status: Literal["pending", "sent", "cancelled", "failed"]
    created_at: str
    sent_at: str | None
    post_id: int | None
    error: str = Field(description="Why sending failed.")


class ScheduledPostList(BaseModel):
    items: list[ScheduledPostOut]


class SendSlotOut(BaseModel):
    at: str
    members_working: int


class SendTimeOut(BaseModel):
    space_id: int
    after: str
    grid_minutes: int
    members: int = Field(description="Active members counted (the asker aside).")
    suggested: SendSlotOut
    now: SendSlotOut


# metrics


class SpaceMetricsOut(BaseModel):
    """A space's information-velocity metrics over a window of UTC days: the window's
    summary and one entry per day, each shaped as ``docs/metrics.md`` describes."""

    model_config = ConfigDict(populate_by_name=True)

    space_id: int
    from_: str = Field(alias="from", description="The window's first UTC day, YYYY-MM-DD.")
    to: str = Field(description="The window's last UTC day, YYYY-MM-DD.")
    k: int = Field(description="Coverage counts the hours with at least k members at work.")
    computed_at: str
    summary: dict[str, object]
    days: list[dict[str, object]]
