"""Topics in a space."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import topics
from kith.api.deps import AppDep, SpaceId, TopicId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.routes.posts import post_out
from kith.api.schemas import AcceptIn, ResolveIn, TopicCreate, TopicOut, TopicPage, TopicWithPost
from kith.domain import views
from kith.domain.models import Topic

router = APIRouter(tags=["topics"], responses=ERROR_RESPONSES)


def topic_out(topic: Topic) -> TopicOut:
    return TopicOut(**views.topic(topic))


@router.get("/spaces/{space_id}/topics")
def list_topics(
    app: AppDep,
    viewer: ViewerDep,
    space_id: SpaceId,
    questions: bool = False,
    unresolved: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TopicPage:
    """Topics, most recently active first; ``questions`` and ``unresolved`` filter them."""
    page = topics.list_topics(
        app,
        viewer,
        space_id,
        questions_only=questions,
        unresolved_only=unresolved,
        cursor=cursor,
        limit=limit,
    )
    return TopicPage(items=[topic_out(t) for t in page.items], next_cursor=page.next_cursor)


@router.post("/spaces/{space_id}/topics", status_code=201)
def create_topic(app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: TopicCreate) -> TopicWithPost:
    """Start a topic with its first post."""
    topic, post = topics.check_create_topic(app, viewer, space_id, **body.model_dump())
    return TopicWithPost(topic=topic_out(topic), post=post_out(post))


@router.get("/topics/{topic_id}")
def get_topic(app: AppDep, viewer: ViewerDep, topic_id: TopicId) -> TopicOut:
    return topic_out(topics.get_topic(app, viewer, topic_id))


@router.post("/topics/{topic_id}/resolve")
def resolve_topic(app: AppDep, viewer: ViewerDep, topic_id: TopicId, body: ResolveIn) -> TopicOut:
    """Mark resolved (``true``) or open again (``false``)."""
    return topic_out(topics.check_set_resolved(app, viewer, topic_id, resolved=body.resolved))


@router.post("/topics/{topic_id}/accept")
def accept_answer(app: AppDep, viewer: ViewerDep, topic_id: TopicId, body: AcceptIn) -> TopicOut:
    """Accept a reply as the answer (``null`` withdraws it)."""
    return topic_out(topics.check_accept_answer(app, viewer, topic_id, body.post_id))
