"""Spaces and their members."""

from __future__ import annotations

from fastapi import APIRouter, Response

from kith.actions import spaces
from kith.actions.spaces import SpaceView
from kith.api.deps import AppDep, PersonId, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import (
    MemberAdd,
    MemberOut,
    NotificationLevelIn,
    SpaceCreate,
    SpaceOut,
    SpaceUpdate,
)
from kith.domain import views
from kith.domain.models import Membership

router = APIRouter(tags=["spaces"], responses=ERROR_RESPONSES)


def _out(view: SpaceView) -> SpaceOut:
    return SpaceOut(
        **views.space(view.space, view.membership, view.member_count),
        unread_count=view.unread_count,
        last_read_post_id=view.last_read_post_id,
    )


def _member(m: Membership) -> MemberOut:
    return MemberOut(**views.membership(m))


@router.get("/spaces")
def list_spaces(app: AppDep, viewer: ViewerDep, include_archived: bool = False) -> list[SpaceOut]:
    """Public spaces and the caller's own."""
    return [_out(v) for v in spaces.list_spaces(app, viewer, include_archived=include_archived)]


@router.post("/spaces", status_code=201)
def create_space(app: AppDep, viewer: ViewerDep, body: SpaceCreate) -> SpaceOut:
    """Create a space; the caller becomes its owner."""
    return _out(spaces.check_create_space(app, viewer, **body.model_dump()))


@router.get("/spaces/{space_id}")
def get_space(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> SpaceOut:
    return _out(spaces.get_space(app, viewer, space_id))


@router.patch("/spaces/{space_id}")
def update_space(app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: SpaceUpdate) -> SpaceOut:
    """Owners and administrators change a space; ``archived`` archives or restores it."""
    values = body.model_dump(exclude_unset=True)
    archived = values.pop("archived", None)
    view = spaces.check_update_space(app, viewer, space_id, **values)
    if archived is not None:
        view = spaces.do_archive_space(app, viewer, space_id, archived=archived)
    return _out(view)


@router.post("/spaces/{space_id}/archive")
def archive_space(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> SpaceOut:
    return _out(spaces.do_archive_space(app, viewer, space_id))


@router.get("/spaces/{space_id}/members")
def list_members(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> list[MemberOut]:
    return [_member(m) for m in spaces.list_members(app, viewer, space_id)]


@router.post("/spaces/{space_id}/members", status_code=201)
def add_member(app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: MemberAdd) -> MemberOut:
    """Owners and administrators add a person, or change a member's role."""
    return _member(spaces.check_add_member(app, viewer, space_id, **body.model_dump()))


@router.delete("/spaces/{space_id}/members/{person_id}", status_code=204)
def remove_member(app: AppDep, viewer: ViewerDep, space_id: SpaceId, person_id: PersonId) -> Response:
    spaces.check_remove_member(app, viewer, space_id, person_id)
    return Response(status_code=204)


@router.post("/spaces/{space_id}/join")
def join_space(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> MemberOut:
    """Join a public space."""
    return _member(spaces.check_join(app, viewer, space_id))


@router.post("/spaces/{space_id}/leave", status_code=204)
def leave_space(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> Response:
    spaces.check_leave(app, viewer, space_id)
    return Response(status_code=204)


@router.put("/spaces/{space_id}/notification-level")
def set_notification_level(
    app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: NotificationLevelIn
) -> MemberOut:
    return _member(spaces.check_set_notification_level(app, viewer, space_id, body.notification_level))
