"""Spaces from detected communities: proposals, making one in one call, and the drift of
its community since (see docs/community-spaces.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from kith.actions import community_proposals, community_spaces
from kith.api.deps import MAX_ID, AppDep, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import CommunitySpaceIn

router = APIRouter(tags=["community spaces"], responses=ERROR_RESPONSES)

CommunityId = Annotated[int, Path(ge=1, le=MAX_ID)]
RunQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="A run; default: the newest.")]


@router.get("/analysis/proposals")
def list_proposals(app: AppDep, viewer: ViewerDep, run: RunQuery = None) -> dict[str, Any]:
    """A proposed space for each community of a run (analysts and administrators)."""
    return community_proposals.list_proposals(app, viewer, run)


@router.get("/analysis/communities/{community_id}/proposal")
def get_proposal(
    app: AppDep, viewer: ViewerDep, community_id: CommunityId, run: RunQuery = None
) -> dict[str, Any]:
    """The space proposed for a community: name, description, make-up, members, owners."""
    return community_proposals.get_proposal(app, viewer, community_id, run)


@router.post("/analysis/communities/{community_id}/space", status_code=201)
def create_space(
    app: AppDep, viewer: ViewerDep, community_id: CommunityId, body: CommunitySpaceIn | None = None
) -> dict[str, Any]:
    """Make the community's space: its hubs own it, its other members are invited."""
    values = (body or CommunitySpaceIn()).model_dump()
    made = community_spaces.check_create_space(app, viewer, community_id, **values)
    return community_spaces.creation_view(made)


@router.get("/spaces/{space_id}/community")
def get_drift(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> dict[str, Any]:
    """How the space's community changed since: suggested additions and departures."""
    return community_spaces.get_drift(app, viewer, space_id)
