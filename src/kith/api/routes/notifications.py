"""The signed-in person's notifications: list, count, mark read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import notify
from kith.api.deps import AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import (
    NotificationCountOut,
    NotificationOut,
    NotificationPage,
    NotificationsReadIn,
    NotificationsReadOut,
)
from kith.domain import views
from kith.domain.errors import invalid

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)


@router.get("/notifications")
def list_notifications(
    app: AppDep,
    viewer: ViewerDep,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """Mine, newest first, in spaces I may read now; ``unread=true`` for the unread ones only."""
    page = notify.list_notifications(app, viewer, unread_only=unread, cursor=cursor, limit=limit)
    items = [NotificationOut(**views.notification(n)) for n in page.items]
    return NotificationPage(items=items, next_cursor=page.next_cursor)


@router.post("/notifications/read")
def mark_read(app: AppDep, viewer: ViewerDep, body: NotificationsReadIn) -> NotificationsReadOut:
    """Mark some (``{"ids": [...]}``) or all (``{"all": true}``) of mine read."""
    if (body.ids is None) == (body.all is not True):
        raise invalid("ids", 'send either "ids" (a list of notification ids) or "all": true')
    changed = notify.check_mark_read(app, viewer, body.ids)
    return NotificationsReadOut(changed=changed, unread=notify.unread_count(app, viewer))


@router.get("/notifications/count")
def count(app: AppDep, viewer: ViewerDep) -> NotificationCountOut:
    """How many of mine are unread (in spaces I may read now)."""
    return NotificationCountOut(unread=notify.unread_count(app, viewer))
