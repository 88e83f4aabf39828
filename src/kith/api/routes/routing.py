"""Question routing: who might answer, and telling them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import routing
from kith.api.deps import AppDep, TopicId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import RouteIn, RoutingOut
from kith.domain import views

router = APIRouter(tags=["routing"], responses=ERROR_RESPONSES)


@router.get("/topics/{topic_id}/routing")
def get_routing(
    app: AppDep,
    viewer: ViewerDep,
    topic_id: TopicId,
    limit: Annotated[int, Query(ge=1, le=routing.LIMIT_MAX)] = 10,
) -> RoutingOut:
    """The members most likely to answer, awake ones first (the asker, owners, admins)."""
    return RoutingOut(**views.routing_plan(routing.get_routing(app, viewer, topic_id, limit=limit)))


@router.post("/topics/{topic_id}/routing")
def route_question(
    app: AppDep,
    viewer: ViewerDep,
    topic_id: TopicId,
    body: RouteIn | None = None,
    limit: Annotated[int, Query(ge=1, le=routing.LIMIT_MAX)] = 10,
) -> RoutingOut:
    """Tell ``notify`` (or the top awake candidates) of the question; widen while unanswered."""
    notify = body.notify if body is not None else None
    plan = routing.check_route_question(app, viewer, topic_id, notify, limit=limit)
    return RoutingOut(**views.routing_plan(plan))
