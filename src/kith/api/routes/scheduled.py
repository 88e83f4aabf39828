"""Send later: scheduled posts, and the time that reaches the most members at work."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from kith.actions import scheduled
from kith.api.deps import MAX_ID, AppDep, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import (
    ScheduledPostEdit,
    ScheduledPostIn,
    ScheduledPostList,
    ScheduledPostOut,
    SendTimeOut,
)
from kith.domain import views
from kith.domain.models import ScheduledPost

router = APIRouter(tags=["scheduled"], responses=ERROR_RESPONSES)
ScheduledId = Annotated[int, Path(ge=1, le=MAX_ID)]


def scheduled_out(item: ScheduledPost) -> ScheduledPostOut:
    return ScheduledPostOut(**views.scheduled_post(item))


@router.post("/scheduled-posts", status_code=201)
def schedule_post(app: AppDep, viewer: ViewerDep, body: ScheduledPostIn) -> ScheduledPostOut:
    """Schedule a reply (``topic_id``) or a new topic (``title``) for ``send_at``."""
    data = scheduled.ScheduleInput(**body.model_dump())
    return scheduled_out(scheduled.check_schedule_post(app, viewer, data))


@router.get("/scheduled-posts")
def list_scheduled(
    app: AppDep,
    viewer: ViewerDep,
    status: Literal["pending", "sent", "cancelled", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> ScheduledPostList:
    """My scheduled posts: pending first (soonest first), then the rest (latest first)."""
    items = scheduled.list_scheduled(app, viewer, status=status, limit=limit)
    return ScheduledPostList(items=[scheduled_out(item) for item in items])


@router.get("/scheduled-posts/{scheduled_id}")
def get_scheduled(app: AppDep, viewer: ViewerDep, scheduled_id: ScheduledId) -> ScheduledPostOut:
    return scheduled_out(scheduled.get_scheduled(app, viewer, scheduled_id))


@router.patch("/scheduled-posts/{scheduled_id}")
def edit_scheduled(
    app: AppDep, viewer: ViewerDep, scheduled_id: ScheduledId, body: ScheduledPostEdit
) -> ScheduledPostOut:
    """Change a pending post's text, time, title or urgency."""
    changed = scheduled.check_edit_scheduled(app, viewer, scheduled_id, **body.model_dump())
    return scheduled_out(changed)


@router.delete("/scheduled-posts/{scheduled_id}")
def cancel_scheduled(app: AppDep, viewer: ViewerDep, scheduled_id: ScheduledId) -> ScheduledPostOut:
    """Cancel a pending post; it is never sent."""
    return scheduled_out(scheduled.check_cancel_scheduled(app, viewer, scheduled_id))


@router.get("/spaces/{space_id}/send-time")
def suggest_send_time(
    app: AppDep,
    viewer: ViewerDep,
    space_id: SpaceId,
    after: Annotated[
        str | None, Query(min_length=1, max_length=64, description="ISO 8601 with offset.")
    ] = None,
) -> SendTimeOut:
    """The quarter hour in the next 7 days when the most members are within working hours."""
    return SendTimeOut(**views.send_time(scheduled.suggest_send_time(app, viewer, space_id, after)))
