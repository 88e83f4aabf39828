"""Read pointers and seen receipts."""

from __future__ import annotations

from fastapi import APIRouter

from kith.actions import receipts
from kith.api.deps import AppDep, PostId, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import MarkReadIn, ReadStateOut, SeenByOut, SeenIn, SeenOut, SeenSummaryOut

router = APIRouter(tags=["receipts"], responses=ERROR_RESPONSES)


@router.post("/spaces/{space_id}/read")
def mark_read(app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: MarkReadIn) -> ReadStateOut:
    """Move my read pointer forward (to ``post_id``, or to the newest post)."""
    state = receipts.check_mark_read(app, viewer, space_id, body.post_id)
    return ReadStateOut(
        space_id=state.space_id, last_read_post_id=state.last_read_post_id, unread_count=state.unread_count
    )


@router.post("/seen")
def mark_seen(app: AppDep, viewer: ViewerDep, body: SeenIn) -> SeenOut:
    """Report the posts that were on my screen; the first sighting of each is kept."""
    return SeenOut(newly_seen=receipts.check_mark_seen(app, viewer, body.post_ids))


@router.get("/posts/{post_id}/seen")
def post_seen(app: AppDep, viewer: ViewerDep, post_id: PostId) -> SeenSummaryOut:
    """How many of the space's members have seen a post and when; who, for its author."""
    s = receipts.get_seen(app, viewer, post_id)
    return SeenSummaryOut(
        post_id=s.post_id,
        member_count=s.member_count,
        seen_count=s.seen_count,
        first_seen_at=s.first_seen_at.isoformat() if s.first_seen_at else None,
        last_seen_at=s.last_seen_at.isoformat() if s.last_seen_at else None,
        seen_by=None
        if s.seen_by is None
        else [SeenByOut(person_id=pid, seen_at=at.isoformat()) for pid, at in s.seen_by],
    )
